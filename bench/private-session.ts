/**
 * One private session across the three in-process parties, wired like
 * in-process/in-process-parties.ts's runInProcess but with every link wrapped: a
 * PartyRecorder per party (blocked time, frames, bytes), and between the gateway and the
 * engine either the in-process link emulator (`wrapper`) or real loopback TCP through the
 * TCP relay (`relay`). Returns the session's figures, phase by phase.
 *
 * Dealer modes: `ahead` (default) lets the dealer produce the whole session's material right
 * after the handshake, before the gateway sends anything online (the gateway is held at its
 * first dealer frame), so the online phase is timed alone, as in a deployment where the
 * dealer is another machine that works ahead; `streamed` runs the dealer concurrently with
 * bounded links, as runInProcess does, so its work competes for this process's event loop.
 */
import { runDealerSession } from '../dealer/dealer-session.js';
import { runEngineSession } from '../engine/private/engine-session.js';
import type { InProcessParties } from '../in-process/in-process-parties.js';
import { privateGenerate, type PrivateSessionStats } from '../gateway/private/private-generation.js';
import type { AttentionMode } from '../protocol/schedule/attention-mode.js';
import { inProcessLinkPair } from '../protocol/transport/in-process-link.js';
import type { MessageLink } from '../protocol/transport/message-link.js';
import type { PartyName } from '../protocol/transport/party-network.js';
import { emulateLink } from './emulated-link.js';
import { GatedLink } from './gated-link.js';
import { LinkEmulator } from './link-emulator.js';
import { oneWayDelayMs, type LinkSetting } from './link-settings.js';
import { PartyRecorder } from './party-recorder.js';
import { tcpLinkPair } from './tcp-frame-link.js';
import { productUnionMs, TimedBackend } from './timed-backend.js';
import { splitTime, type PartyActivity, type TimeSplit } from './time-split.js';

/** Same bound as runInProcess: how far (in frames) the dealer may run ahead. */
const DEALER_LINK_CAPACITY = 256;

export type EmulationMode = 'wrapper' | 'relay';
export type DealerMode = 'ahead' | 'streamed';

export interface PhaseFigures {
  /** One-way gateway–engine flights on the critical path (prefill: up to the first token; decode: per token). */
  flights: number;
  /** Bytes on each link in the phase (decode: per token). */
  bytesToEngine: number;
  bytesFromEngine: number;
  dealerBytesToGateway: number;
  dealerBytesToEngine: number;
  /** Gateway–engine bytes by message kind, each direction (decode: per token). */
  bytesByKind: { toEngine: Record<string, number>; fromEngine: Record<string, number> };
  /** Where the time went (decode: per token). */
  split: TimeSplit;
  /** How late the link emulator's timers handed frames on, summed (decode: per token); null for the relay. */
  emulatorLateMs: number | null;
  /**
   * Summed duration of each party's matrix products in the phase (decode: per token); the
   * products of one party may overlap another's (onnxruntime runs them on its own threads).
   */
  matmulMs: Record<PartyName, number>;
  /** Time during which the gateway's or the engine's products were running (the union). */
  matmulAnyMs: number;
  /**
   * Of the gateway's products, the time they ran while the gateway waited on a link: the
   * products made ahead (protocol/pool/products-ahead.ts), off its critical path. The rest of
   * matmulMs.gateway ran while it was busy.
   */
  gatewayProductsAheadMs: number;
  /**
   * CPU time of this whole process (all three parties, onnxruntime's threads included) in the
   * phase (decode: per token): the work done, much less sensitive than wall time to other
   * processes sharing the machine.
   */
  cpuMs: number;
}

export interface SessionMeasurement {
  promptTokens: number;
  tokens: number[];
  ttftMs: number;
  prefill: PhaseFigures;
  /** Absent when only one token was generated. */
  decode?: PhaseFigures & {
    /** Median interval between consecutive tokens (robust to a busy machine's spikes). */
    msPerToken: number;
    /** Mean interval; the time split and per-token bytes are means. */
    meanMsPerToken: number;
    steps: number;
    flightsPerLayer: number;
    /** Dealer ahead: the dealer's production time per decode pass (offline work); null when streamed. */
    dealerMsPerToken: number | null;
    /** The gateway's products made ahead, whole session (absent when off): taken from the pool, made online. */
    productsAhead?: { hits: number; misses: number; mismatches: number; notReady: number; lateHits: number; peakBytes: number };
  };
  stats: PrivateSessionStats;
  /**
   * Each decode step on its own (the interval from one token to the next): its gateway–engine
   * bytes both ways and, of them, the token-lookup query bytes (a query is encrypted ahead and
   * crosses once per token, but not in the window of the step it serves). For exact counts at a
   * given context (bench/exact-counts.ts); the reports use the means in `decode`.
   */
  decodeSteps: { keys: number; bytes: number; tokenQueryBytes: number }[];
  /** Dealer ahead: how long the dealer took to produce the session's material (before the online phase). */
  dealerOfflineMs: number | null;
}

export interface SessionOptions {
  promptTokens: readonly number[];
  maxTokens: number;
  link: LinkSetting;
  emulation: EmulationMode;
  dealer: DealerMode;
  /** Attention mode of the session (protocol/schedule/attention-mode.ts; default beaver). */
  attention?: AttentionMode;
}

interface Delivery {
  due: number;
  at: number;
}

async function gatewayEngineLinks(
  link: LinkSetting,
  emulation: EmulationMode,
  deliveries: Delivery[],
): Promise<{ gateway: MessageLink; engine: MessageLink; dispose: () => Promise<void> }> {
  if (emulation === 'wrapper') {
    const [g, e] = inProcessLinkPair();
    const observe = (due: number, at: number) => deliveries.push({ due, at });
    return { gateway: emulateLink(g, link, observe), engine: emulateLink(e, link, observe), dispose: async () => undefined };
  }
  let relay: LinkEmulator | undefined;
  const pair = await tcpLinkPair(async (enginePort) => {
    relay = await LinkEmulator.start({ targetHost: '127.0.0.1', targetPort: enginePort, oneWayDelayMs: oneWayDelayMs(link), bitsPerSecond: link.bitsPerSecond });
    return relay.port;
  });
  return {
    gateway: pair.client,
    engine: pair.server,
    dispose: async () => {
      pair.close();
      await relay?.close();
    },
  };
}

function scaleSplit(s: TimeSplit, k: number): TimeSplit {
  const byKind: Record<string, number> = {};
  for (const [key, v] of Object.entries(s.gatewayWaitsByAwaited)) byKind[key] = v * k;
  return {
    wallMs: s.wallMs * k,
    computeMs: s.computeMs * k,
    networkMs: s.networkMs * k,
    dealerMs: s.dealerMs * k,
    gatewayOnlyMs: s.gatewayOnlyMs * k,
    engineOnlyMs: s.engineOnlyMs * k,
    bothBusyMs: s.bothBusyMs * k,
    busyMs: { gateway: s.busyMs.gateway * k, engine: s.busyMs.engine * k, dealer: s.busyMs.dealer * k },
    gatewayWaitsByAwaited: byKind,
  };
}

function bytesByKind(recorder: PartyRecorder, peer: PartyName, direction: 'sent' | 'received', from: number, to: number, k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of recorder.frames) {
    if (f.peer !== peer || f.direction !== direction || f.time < from || f.time >= to) continue;
    for (const m of f.census.messages) out[m.kind] = (out[m.kind] ?? 0) + m.bytes * k;
  }
  return out;
}

/** User + system CPU time of this process so far, ms. */
function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Time in [from, to) during which a call of `calls` ran inside one of `waits` (ms). */
function overlapMs(calls: readonly { start: number; end: number }[], waits: readonly { start: number; end: number }[], from: number, to: number): number {
  // The waits as disjoint spans (a party may wait on two links at once, e.g. a send under back-pressure).
  const spans: [number, number][] = [];
  for (const w of [...waits].filter((x) => x.end > from && x.start < to).sort((a, b) => a.start - b.start)) {
    const s = Math.max(w.start, from);
    const e = Math.min(w.end, to);
    const last = spans[spans.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else spans.push([s, e]);
  }
  let total = 0;
  for (const c of calls) for (const [s, e] of spans) total += Math.max(0, Math.min(c.end, e) - Math.max(c.start, s));
  return total;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The dealer's time for the decode passes: from its last frame of the prefill pass to its end,
 * per pass. Pass boundaries come from the gateway's StepBegin messages (the second one opens
 * the first decode pass) and the step numbers every frame carries.
 */
function dealerDecodeProduction(rec: Record<PartyName, PartyRecorder>, dealerEnd: number, passes: number): number | null {
  const passSteps = rec.gateway.frames.filter((f) => f.direction === 'sent').flatMap((f) => f.census.messages.filter((m) => m.kind === 'StepBegin').map((m) => m.step));
  const firstDecodeStep = passSteps[1];
  if (firstDecodeStep === undefined) return null;
  let prefillDone: number | undefined;
  for (const f of rec.dealer.frames) {
    if (f.direction === 'sent' && f.census.messages.every((m) => m.step < firstDecodeStep)) prefillDone = Math.max(prefillDone ?? f.time, f.time);
  }
  return prefillDone === undefined ? null : (dealerEnd - prefillDone) / passes;
}

/** The three parties, each multiplying through its own timed backend. */
export interface TimedParties extends InProcessParties {
  timers: Record<PartyName, TimedBackend>;
}

/** Gives each party of a pairing its own timed wrapper around the backend it was paired with. */
export function timeParties(parties: InProcessParties): TimedParties {
  const timers = { engine: new TimedBackend(parties.engine.backend), gateway: new TimedBackend(parties.gateway.backend), dealer: new TimedBackend(parties.dealer.backend) };
  return {
    engine: { ...parties.engine, backend: timers.engine },
    gateway: { ...parties.gateway, backend: timers.gateway },
    dealer: { ...parties.dealer, backend: timers.dealer },
    trust: parties.trust,
    timers,
  };
}

export async function runPrivateSession(parties: TimedParties, options: SessionOptions): Promise<SessionMeasurement> {
  for (const t of Object.values(parties.timers)) t.reset();
  const rec: Record<PartyName, PartyRecorder> = { gateway: new PartyRecorder('gateway'), engine: new PartyRecorder('engine'), dealer: new PartyRecorder('dealer') };
  const deliveries: Delivery[] = [];
  const ge = await gatewayEngineLinks(options.link, options.emulation, deliveries);
  const dealerCapacity = options.dealer === 'ahead' ? Number.POSITIVE_INFINITY : DEALER_LINK_CAPACITY;
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(dealerCapacity);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(dealerCapacity);
  const ended: Record<PartyName, number> = { gateway: Number.POSITIVE_INFINITY, engine: Number.POSITIVE_INFINITY, dealer: Number.POSITIVE_INFINITY };
  const started = performance.now();
  const engine = runEngineSession({ gateway: rec.engine.wrap(ge.engine, 'gateway'), dealer: rec.engine.wrap(engineToDealer, 'dealer') }, parties.engine, parties.trust.engine).finally(() => (ended.engine = performance.now()));
  const dealer = runDealerSession({ gateway: rec.dealer.wrap(dealerToGateway, 'gateway'), engine: rec.dealer.wrap(dealerToEngine, 'engine') }, parties.dealer, parties.trust.dealer).finally(() => (ended.dealer = performance.now()));
  // Keep a failing side from becoming an unhandled rejection while the gateway still runs.
  engine.catch(() => undefined);
  dealer.catch(() => undefined);
  // The online phase starts when the gate opens: at once (streamed), or once the dealer is done.
  let began = started;
  let beganCpu = cpuNowMs();
  const open = () => {
    began = performance.now();
    beganCpu = cpuNowMs();
  };
  const gate = options.dealer === 'ahead' ? dealer.then(open, open) : Promise.resolve();
  const gatewayDealerLink = options.dealer === 'ahead' ? new GatedLink(gatewayToDealer, gate) : gatewayToDealer;
  const events = privateGenerate({ engine: rec.gateway.wrap(ge.gateway, 'engine'), dealer: rec.gateway.wrap(gatewayDealerLink, 'dealer') }, parties.gateway, {
    promptTokens: options.promptTokens,
    maxTokens: options.maxTokens,
    sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 },
    adjustments: {},
    stopIds: new Set(),
    ...(options.attention ? { attention: options.attention } : {}),
  }, parties.trust.gateway);
  const tokenTimes: number[] = [];
  const tokenCpu: number[] = [];
  const tokens: number[] = [];
  let stats: PrivateSessionStats | undefined;
  try {
    for await (const event of events) {
      if (event.type === 'token') {
        tokenTimes.push(performance.now());
        tokenCpu.push(cpuNowMs());
        tokens.push(event.id);
      } else if (event.type === 'stats') stats = event.stats;
    }
    ended.gateway = performance.now();
    const [engineResult, dealerResult] = await Promise.allSettled([engine, dealer]);
    if (engineResult.status === 'rejected') throw new Error(`engine session failed: ${String(engineResult.reason)}`);
    if (dealerResult.status === 'rejected') throw new Error(`dealer session failed: ${String(dealerResult.reason)}`);
  } finally {
    await ge.dispose();
  }
  if (!stats) throw new Error('the gateway ended without its stats event');
  const first = tokenTimes[0];
  if (first === undefined) throw new Error('no token was generated');
  const last = tokenTimes[tokenTimes.length - 1]!;
  const activity = (p: PartyName): PartyActivity => ({ recorder: rec[p], activeFrom: began, activeTo: ended[p] });
  const parts = { gateway: activity('gateway'), engine: activity('engine'), dealer: activity('dealer') };

  const phase = (from: number, to: number, k: number, flights: number, cpuMs: number): PhaseFigures => ({
    flights,
    cpuMs: cpuMs * k,
    matmulMs: { gateway: parties.timers.gateway.busyMs(from, to) * k, engine: parties.timers.engine.busyMs(from, to) * k, dealer: parties.timers.dealer.busyMs(from, to) * k },
    matmulAnyMs: productUnionMs([parties.timers.gateway, parties.timers.engine], from, to) * k,
    gatewayProductsAheadMs: overlapMs(parties.timers.gateway.calls, rec.gateway.waits, from, to) * k,
    bytesToEngine: rec.gateway.bytes('engine', 'sent', from, to) * k,
    bytesFromEngine: rec.gateway.bytes('engine', 'received', from, to) * k,
    dealerBytesToGateway: rec.gateway.bytes('dealer', 'received', from, to) * k,
    dealerBytesToEngine: rec.engine.bytes('dealer', 'received', from, to) * k,
    bytesByKind: { toEngine: bytesByKind(rec.gateway, 'engine', 'sent', from, to, k), fromEngine: bytesByKind(rec.gateway, 'engine', 'received', from, to, k) },
    split: scaleSplit(splitTime(parts, from, to), k),
    emulatorLateMs: options.emulation === 'relay' ? null : deliveries.reduce((sum, d) => (d.at >= from && d.at < to ? sum + Math.max(0, d.at - d.due) : sum), 0) * k,
  });
  const prefillFlights = Math.max(rec.gateway.maxDepth('engine', first + 0.001), rec.engine.maxDepth('gateway', first + 0.001));
  const measurement: SessionMeasurement = {
    promptTokens: options.promptTokens.length,
    tokens,
    ttftMs: first - began,
    prefill: phase(began, first + 0.001, 1, prefillFlights, tokenCpu[0]! - beganCpu),
    stats,
    decodeSteps: tokenTimes.slice(1).map((t, i) => {
      const from = tokenTimes[i]! + 0.001;
      const to = t + 0.001;
      const kinds = [bytesByKind(rec.gateway, 'engine', 'sent', from, to, 1), bytesByKind(rec.gateway, 'engine', 'received', from, to, 1)];
      // Step i + 1 feeds the token at position prompt + i: it attends to prompt + i + 1 keys.
      return { keys: options.promptTokens.length + i + 1, bytes: rec.gateway.bytes('engine', 'sent', from, to) + rec.gateway.bytes('engine', 'received', from, to), tokenQueryBytes: kinds.reduce((sum, k) => sum + (k.TokenQuery ?? 0), 0) };
    }),
    dealerOfflineMs: options.dealer === 'ahead' ? began - started : null,
  };
  const steps = tokenTimes.length - 1;
  if (steps > 0) {
    measurement.decode = {
      ...phase(first + 0.001, last + 0.001, 1 / steps, stats.flightsPerToken, tokenCpu[tokenCpu.length - 1]! - tokenCpu[0]!),
      msPerToken: median(tokenTimes.slice(1).map((t, i) => t - tokenTimes[i]!)),
      meanMsPerToken: (last - first) / steps,
      steps,
      flightsPerLayer: stats.flightsPerLayer,
      dealerMsPerToken: options.dealer === 'ahead' ? dealerDecodeProduction(rec, ended.dealer, steps) : null,
    };
    const pa = stats.productsAhead;
    if (pa) measurement.decode.productsAhead = { hits: pa.hits, misses: pa.misses, mismatches: pa.mismatches, notReady: pa.notReady, lateHits: pa.lateHits, peakBytes: pa.peakBytes };
  }
  return measurement;
}
