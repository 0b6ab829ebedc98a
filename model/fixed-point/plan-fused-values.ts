/**
 * The one rule that decides, per attention step, whether the paper-exposure (beaver) schedule of
 * the `ring64` profile evaluates P·V without its own round trip (issue 12;
 * protocol/subprotocols/ring/ring-fused-values.ts) or keeps the Beaver product
 * (ring-mul-kv.ts ringValuesKV).
 *
 * The trade. The fused step removes two one-way flights per layer (the opening of P and the
 * MulW(o) input that had to wait for it: 10 → 8 per layer on stories260K decode, 12 → 10 where
 * the FFN norm is not deferred), and pays for it with one offline dealer → user message of
 * N · headDim ring words, N the number of probabilities the step opens (the packed causal
 * triangle: nHeads · keys per decoded token), where the Beaver product opens N words each way
 * online. At stories260K shapes (8 heads, headDim 8) that is at most 256 KiB per layer at 512
 * keys; at Llama-3.1-8B shapes (32 heads, headDim 128) it is 16 MiB per layer at 512 keys, more
 * than a 10 ms round trip is worth on a 1 Gbps link (1.25 MB). So the plan carries a byte bound
 * per layer and step, `fusedValuesBytes`, and every party fuses exactly when
 *   N · headDim · 8 ≤ fusedValuesBytes.
 * N depends only on public facts (heads, rows, the position), so the engine, the user and the
 * dealer take the same decision at every step; a prefill (rows > 1) is fused only when its
 * triangle fits the same bound. The bound is part of the public plan because all three parties
 * must agree on it; a plan that carries it has format FUSED_VALUES_FORMAT, which a peer that does
 * not know the fused step refuses (protocol/transport/model-card.ts's strict schema).
 *
 * The default bound, 1 MiB (DEFAULT_FUSED_VALUES_BYTES): about the bytes a 1 Gbps link carries in
 * the 10 ms round trip the fusion saves, so the fused step never costs more link time than it
 * saves at the paper's setting. stories260K is fused at every position (≤ 256 KiB); an 8B layer
 * only while keys ≤ 32.
 */
import type { ModelConfig } from '../model-description.js';

/** The plan format of a plan that carries the fused-P·V bound: an older peer's card schema refuses it. */
export const FUSED_VALUES_FORMAT = 'permllm-fixed-point/3';

/** Default byte bound of the fused step's dealer message, per layer and step (see the file comment). */
export const DEFAULT_FUSED_VALUES_BYTES = 1 << 20;

/** Bytes of the fused step's dealer → user message π(U1) + R′ for `probabilities` opened entries. */
export function fusedValuesMessageBytes(config: Pick<ModelConfig, 'headDim'>, probabilities: number): number {
  return probabilities * config.headDim * 8;
}

/**
 * Whether the attention step that opens `probabilities` entries of P (causalSize of its shape)
 * runs the fused P·V step under a plan with bound `fusedValuesBytes` (undefined: never).
 */
export function fusedValuesAt(plan: { fusedValuesBytes?: number | undefined }, config: Pick<ModelConfig, 'headDim'>, probabilities: number): boolean {
  return plan.fusedValuesBytes !== undefined && fusedValuesMessageBytes(config, probabilities) <= plan.fusedValuesBytes;
}
