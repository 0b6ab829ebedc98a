/**
 * What a generation loop needs from a model, whatever computes it: the plaintext oracle, or
 * the private protocol's gateway side (which sees the logits only in permuted order and maps
 * the chosen index back through the token lookup).
 */
export interface TokenStepper {
  /** Processes the prompt (non-empty) and returns the logits of its last position. */
  prefill(tokens: readonly number[]): Promise<Float32Array | Float64Array>;
  /** Appends one token and returns the logits at its position. */
  decode(token: number): Promise<Float32Array | Float64Array>;
  /** Positions the stepper can hold; generation stops with "length" there. */
  readonly contextLength?: number;
}
