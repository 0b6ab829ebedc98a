/** The backend's ProtocolStats -> the `permllm` wire extension (snake_case), summed over choices. */
import type { ProtocolStats } from '../pipeline/generation-backend.js';
import type { PermllmStats } from './wire-types.js';

/** Sums bytes and times; `flights_per_token` is the mean over the sessions that report it. */
export function sumProtocolStats(all: readonly ProtocolStats[]): PermllmStats | undefined {
  if (all.length === 0) return undefined;
  const flights = all.flatMap((s) => (s.flightsPerToken === undefined ? [] : [s.flightsPerToken]));
  const sum = (pick: (s: ProtocolStats) => number) => all.reduce((acc, s) => acc + pick(s), 0);
  const profiles = new Set(all.map((s) => s.maskProfile));
  const [profile] = profiles;
  return {
    ...(flights.length === 0 ? {} : { flights_per_token: flights.reduce((a, b) => a + b, 0) / flights.length }),
    bytes_to_engine: sum((s) => s.bytesToEngine),
    bytes_from_engine: sum((s) => s.bytesFromEngine),
    dealer_bytes: sum((s) => s.dealerBytes),
    prefill_ms: sum((s) => s.prefillMs),
    decode_ms: sum((s) => s.decodeMs),
    ...(profiles.size === 1 && profile !== undefined ? { mask_profile: profile } : {}),
  };
}
