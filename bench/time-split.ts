/**
 * Where the time of a window went, from the parties' link records (party-recorder.ts).
 *
 * Every instant of the window falls in exactly one bucket, from the two data parties' states:
 * - compute: the gateway or the engine is busy (not blocked on any link);
 * - dealer: both are blocked and at least one waits for a dealer frame;
 * - network: both are blocked on each other, i.e. a message is in flight between them.
 * So compute + dealer + network = wall time. Each party's own busy time is reported too; the
 * dealer's is not on the critical path by construction but, in-process, it shares the CPU with
 * the other two, so it shows up as slower compute there (bench/README.md says how to read it).
 */
import type { PartyName } from '../protocol/transport/party-network.js';
import type { PartyRecorder } from './party-recorder.js';

export interface TimeSplit {
  wallMs: number;
  computeMs: number;
  networkMs: number;
  dealerMs: number;
  /** compute split: only the gateway busy, only the engine busy, both busy. */
  gatewayOnlyMs: number;
  engineOnlyMs: number;
  bothBusyMs: number;
  /** Each party's busy time in the window (the dealer's overlaps the others'). */
  busyMs: Record<PartyName, number>;
  /** The gateway's waits on the engine, by the message kinds that ended them (ms). */
  gatewayWaitsByAwaited: Record<string, number>;
}

export interface PartyActivity {
  recorder: PartyRecorder;
  /** When the party's session started and ended (performance.now()). */
  activeFrom: number;
  activeTo: number;
}

type Event = { t: number; party: PartyName; peer: PartyName; delta: 1 | -1 };

export function splitTime(parties: Record<PartyName, PartyActivity>, from: number, to: number): TimeSplit {
  const names: PartyName[] = ['gateway', 'engine', 'dealer'];
  const events: Event[] = [];
  const cuts = new Set<number>([from, to]);
  for (const party of names) {
    const a = parties[party];
    cuts.add(Math.min(Math.max(a.activeFrom, from), to));
    cuts.add(Math.min(Math.max(a.activeTo, from), to));
    for (const w of a.recorder.waits) {
      if (w.end <= from || w.start >= to) continue;
      const s = Math.max(w.start, from);
      const e = Math.min(w.end, to);
      events.push({ t: s, party, peer: w.peer, delta: 1 }, { t: e, party, peer: w.peer, delta: -1 });
      cuts.add(s);
      cuts.add(e);
    }
  }
  events.sort((x, y) => x.t - y.t || x.delta - y.delta);
  const times = [...cuts].sort((x, y) => x - y);
  const waiting: Record<PartyName, Record<PartyName, number>> = {
    gateway: { gateway: 0, engine: 0, dealer: 0 },
    engine: { gateway: 0, engine: 0, dealer: 0 },
    dealer: { gateway: 0, engine: 0, dealer: 0 },
  };
  const blocked = (p: PartyName) => waiting[p].gateway + waiting[p].engine + waiting[p].dealer > 0;
  const split: TimeSplit = {
    wallMs: to - from,
    computeMs: 0,
    networkMs: 0,
    dealerMs: 0,
    gatewayOnlyMs: 0,
    engineOnlyMs: 0,
    bothBusyMs: 0,
    busyMs: { gateway: 0, engine: 0, dealer: 0 },
    gatewayWaitsByAwaited: {},
  };
  let next = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const t0 = times[i]!;
    const t1 = times[i + 1]!;
    while (next < events.length && events[next]!.t <= t0) {
      const ev = events[next++]!;
      waiting[ev.party][ev.peer] += ev.delta;
    }
    const span = t1 - t0;
    if (span <= 0) continue;
    const mid = (t0 + t1) / 2;
    const busy = (p: PartyName) => parties[p].activeFrom <= mid && mid < parties[p].activeTo && !blocked(p);
    const g = busy('gateway');
    const e = busy('engine');
    for (const p of names) if (busy(p)) split.busyMs[p] += span;
    if (g || e) {
      split.computeMs += span;
      if (g && e) split.bothBusyMs += span;
      else if (g) split.gatewayOnlyMs += span;
      else split.engineOnlyMs += span;
    } else if (waiting.gateway.dealer > 0 || waiting.engine.dealer > 0) {
      split.dealerMs += span;
    } else {
      split.networkMs += span;
    }
  }
  for (const w of parties.gateway.recorder.waits) {
    if (w.peer !== 'engine' || w.op !== 'receive' || w.end <= from || w.start >= to) continue;
    const key = w.awaited ?? '?';
    split.gatewayWaitsByAwaited[key] = (split.gatewayWaitsByAwaited[key] ?? 0) + Math.min(w.end, to) - Math.max(w.start, from);
  }
  return split;
}
