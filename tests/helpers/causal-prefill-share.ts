/**
 * What a resumed prefill may cost relative to N/P of a fresh one (N new rows at the end of a
 * P-token prompt), now that only the causal triangle of the attention crosses the link
 * (protocol/subprotocols/ring/ring-causal.ts). A pass costs N·c (per-row messages) plus a·E
 * (attention entries): E = N·(P − N) + N(N + 1)/2 for the resumed rows against P(P + 1)/2 for a
 * fresh prefill. So the ratio lies between N/P (all per-row cost) and the entries' ratio (all
 * attention cost): this returns the second over the first, at least 1.
 */
export function causalShareFactor(newRows: number, total: number): number {
  const entries = (newRows * (total - newRows) + (newRows * (newRows + 1)) / 2) / ((total * (total + 1)) / 2);
  return Math.max(1, entries / (newRows / total));
}
