/**
 * The network settings the benchmark emulates between the gateway (P1) and the engine (P0).
 * The dealer's links are never emulated: its material is produced ahead of use (protocol.md,
 * "Phases and sessions"), so in a deployment it travels off the critical path.
 */
export interface LinkSetting {
  readonly name: string;
  /** Round-trip time; each direction gets half of it as one-way delay. */
  readonly rttMs: number;
  /** Bandwidth of each direction, bits per second; Infinity means unpaced. */
  readonly bitsPerSecond: number;
  readonly description: string;
}

export const LINK_SETTINGS = {
  none: { name: 'none', rttMs: 0, bitsPerSecond: Number.POSITIVE_INFINITY, description: 'no emulation (in-process / loopback)' },
  paper: { name: 'paper', rttMs: 10, bitsPerSecond: 1e9, description: "the paper's setting: 10 ms RTT, 1 Gbps" },
  wan: { name: 'wan', rttMs: 40, bitsPerSecond: 100e6, description: 'a WAN: 40 ms RTT, 100 Mbps' },
} as const satisfies Record<string, LinkSetting>;

export type LinkSettingName = keyof typeof LINK_SETTINGS;

export function isLinkSettingName(name: string): name is LinkSettingName {
  return Object.hasOwn(LINK_SETTINGS, name);
}

export function oneWayDelayMs(setting: LinkSetting): number {
  return setting.rttMs / 2;
}

/** Milliseconds to put `bytes` on the wire at the setting's bandwidth (0 when unpaced). */
export function serializationMs(setting: LinkSetting, bytes: number): number {
  return Number.isFinite(setting.bitsPerSecond) ? (bytes * 8 * 1000) / setting.bitsPerSecond : 0;
}

/** "10 ms RTT / 1 Gbps" */
export function describeLink(setting: LinkSetting): string {
  if (setting.rttMs === 0 && !Number.isFinite(setting.bitsPerSecond)) return 'no emulation';
  const bw = setting.bitsPerSecond;
  const rate = !Number.isFinite(bw) ? 'unpaced' : bw >= 1e9 ? `${bw / 1e9} Gbps` : `${bw / 1e6} Mbps`;
  return `${setting.rttMs} ms RTT / ${rate}`;
}
