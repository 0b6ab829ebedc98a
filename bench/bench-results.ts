/**
 * The benchmark's JSON output (bench/results/bench.json): its zod schema is the single source
 * of the result types, and the smoke test parses the written file with it.
 */
import { z } from 'zod';

const num = z.number().finite();
const record = z.record(z.string(), num);

export const timeSplitSchema = z.object({
  wallMs: num,
  computeMs: num,
  networkMs: num,
  dealerMs: num,
  gatewayOnlyMs: num,
  engineOnlyMs: num,
  bothBusyMs: num,
  busyMs: z.object({ gateway: num, engine: num, dealer: num }),
  gatewayWaitsByAwaited: record,
});

const floorSchema = z.object({
  /** flights × one-way delay + bytes (both ways) / bandwidth */
  networkFloorMs: num,
  /** the plaintext compute of the same work on the same machine */
  plaintextMs: num,
  /** networkFloorMs + plaintextMs */
  floorMs: num,
  /** measured / floorMs */
  measuredOverFloor: num,
});

const phaseSchema = z.object({
  flights: num,
  bytesToEngine: num,
  bytesFromEngine: num,
  dealerBytesToGateway: num,
  dealerBytesToEngine: num,
  bytesByKind: z.object({ toEngine: record, fromEngine: record }),
  split: timeSplitSchema,
  /** Summed lateness of the link emulator's timers (null: relay, not measured). */
  emulatorLateMs: num.nullable(),
  /** Process CPU time (all parties and threads): the work, robust to a busy machine. */
  cpuMs: num,
  /** Summed duration of each party's matrix products (they may overlap each other). */
  matmulMs: z.object({ gateway: num, engine: num, dealer: num }),
  /** Time during which a gateway or engine product was running (absent in results from before it was measured). */
  matmulAnyMs: num.optional(),
  /** Of the gateway's products, the time they ran while it waited on a link (made ahead; absent in older results). */
  gatewayProductsAheadMs: num.optional(),
});

export const prefillResultSchema = phaseSchema.extend({
  promptTokens: z.number().int().positive(),
  ttftMs: num,
  floor: floorSchema,
  /** Dealer ahead: the dealer's offline time for this session's material, before the online phase. */
  dealerOfflineMs: num.nullable(),
});

export const decodeResultSchema = phaseSchema.extend({
  /** Median interval between tokens (the headline figure). */
  msPerToken: num,
  /** Mean interval (the split, bytes and flights are per-token means). */
  meanMsPerToken: num,
  steps: z.number().int().positive(),
  flightsPerLayer: num,
  floor: floorSchema,
  /** Dealer ahead: the dealer's (offline) production time per decode pass. */
  dealerMsPerToken: num.nullable(),
  /** The gateway's MulW products made ahead, whole session (protocol/pool/products-ahead.ts; absent: off, or older results). */
  productsAhead: z.object({ hits: num, misses: num, mismatches: num, notReady: num, lateHits: num, peakBytes: num }).optional(),
});

export const linkResultSchema = z.object({
  link: z.string(),
  rttMs: num,
  /** null: unpaced */
  bitsPerSecond: num.nullable(),
  emulation: z.enum(['wrapper', 'relay']),
  dealer: z.enum(['ahead', 'streamed']),
  prefill: z.array(prefillResultSchema),
  decode: decodeResultSchema.nullable(),
  /** Greedy private tokens equal the plaintext ones (information only: float rounding may flip near-ties). */
  matchesPlaintext: z.boolean(),
});

export const modelResultSchema = z.object({
  name: z.string(),
  /** Mask profile of the private runs (ring64: perfect hiding; permllm-f64: statistical). Older files: permllm-f64. */
  profile: z.string().default('permllm-f64'),
  description: z.string(),
  shape: z.string().nullable(),
  config: z.object({ dim: num, hiddenDim: num, nLayers: num, nHeads: num, nKvHeads: num, headDim: num, vocabSize: num }),
  /** Weight matrices' parameter count (what the protocol multiplies by). */
  parameters: num,
  loadMs: num,
  pairingMs: num,
  plaintext: z.object({
    prefill: z.array(z.object({ promptTokens: z.number().int().positive(), ttftMs: num })),
    decodeMsPerToken: num.nullable(),
    decodeCpuMsPerToken: num.nullable(),
  }),
  private: z.array(linkResultSchema),
});

export const perLayerSchema = z.object({
  shape: z.string(),
  label: z.string(),
  link: z.string(),
  /** How the per-layer figure was obtained. */
  method: z.enum(['difference', 'single-depth']),
  depths: z.array(z.number().int()),
  /** Measured on this link (difference of depths). */
  decodeMsPerToken: num,
  /** Per-layer compute: measured without link emulation (none); see extrapolation.ts. */
  computeMsPerToken: num,
  /** computeMsPerToken + this link's per-layer flights × one-way delay + bytes / bandwidth. */
  predictedDecodeMsPerToken: num,
  plaintextDecodeMsPerToken: num,
  /** Per-layer process CPU time per decoded token, private and plaintext (robust to load). */
  cpuMsPerToken: num,
  plaintextCpuMsPerToken: num,
  flightsPerToken: num,
  bytesPerToken: num,
  /** By prompt length: measured, predicted (as above), and bytes moved, per layer. */
  ttftMs: z.record(z.string(), num),
  predictedTtftMs: z.record(z.string(), num),
  prefillBytes: z.record(z.string(), num),
});

export const fullDepthSchema = z.object({
  target: z.string(),
  shape: z.string(),
  layers: z.number().int(),
  vocab: z.number().int(),
  link: z.string(),
  /** computeMsPerToken + networkFloorMs */
  decodeMsPerToken: num,
  computeMsPerToken: num,
  plaintextDecodeMsPerToken: num,
  flightsPerToken: num,
  bytesPerToken: num,
  /** flights × one-way + bytes / bandwidth, for the full model */
  networkFloorMs: num,
  /** Time to first token and bytes moved, by prompt length. */
  ttftMs: z.record(z.string(), num),
  prefillBytes: z.record(z.string(), num),
});

/**
 * Exact flights and bytes from short real sessions (bench/exact-counts.ts) for sizes a run did
 * not measure; bench/cell-model.ts turns them into the acceptance table's counted cells.
 */
export const exactCountsSchema = z.object({
  model: z.string(),
  profile: z.string(),
  /** The plan's fused-P·V bound (null: none, e.g. permllm-f64 or a pairing with the fused step off). */
  fusedValuesBytes: num.nullable(),
  config: z.object({ nLayers: num, nHeads: num, headDim: num, vocabSize: num }),
  /** One-token sessions (maxTokens 1): flights and gateway–engine bytes up to the first token. */
  prefill: z.array(z.object({ promptTokens: z.number().int().positive(), flights: num, bytes: num, bytesByKind: z.object({ toEngine: record, fromEngine: record }).optional() })),
  /** One session's decode steps, each at its own key count (bytes both ways, of them the token query's). */
  decode: z.object({ promptTokens: num, flightsPerToken: num, flightsPerLayer: num, steps: z.array(z.object({ keys: num, bytes: num, tokenQueryBytes: num })) }).nullable(),
  loadAverage: num.optional(),
});

export const benchResultsSchema = z.object({
  schema: z.literal('permllm-bench/1'),
  startedAt: z.string(),
  finishedAt: z.string(),
  quick: z.boolean(),
  machine: z.object({ cpus: z.number().int(), cpuModel: z.string(), memoryGiB: num, node: z.string(), loadAverageStart: z.array(num), loadAverageEnd: z.array(num) }),
  options: z.object({
    models: z.array(z.string()),
    /** Mask profiles measured, each beside the same plaintext baseline; the extrapolation uses the first. */
    profiles: z.array(z.string()).default(['permllm-f64']),
    links: z.array(z.string()),
    prompts: z.array(z.number().int()),
    decodeTokens: z.number().int(),
    emulation: z.enum(['wrapper', 'relay']),
    dealer: z.enum(['ahead', 'streamed']),
    /** The (model, profile) cells a preset measured (acceptance-preset.ts); absent: every combination of the lists above. */
    cells: z
      .array(z.object({ model: z.string(), profile: z.string(), links: z.array(z.string()), prompts: z.array(z.number().int()), longPromptLinks: z.array(z.string()), decodeTokens: z.number().int() }))
      .optional(),
    /** Written after a cell while the run goes on: not every cell is in yet. */
    partial: z.boolean().optional(),
  }),
  models: z.array(modelResultSchema),
  /** The BFV token lookup alone, per vocabulary size (client query + server answer + decode). */
  /**
   * The token lookup alone (token-lookup-timing.ts): `ms` with the query encrypted online;
   * `onlineMs` with it encrypted ahead (`aheadMs`, off the critical path). Older files lack the optional fields.
   */
  tokenLookup: z.array(
    z.object({ vocab: z.number().int(), ms: num, queryBytes: num, answerBytes: num, prepareMs: num.optional(), answerMs: num.optional(), onlineMs: num.optional(), aheadMs: num.optional(), offsetBytes: num.optional() }),
  ),
  extrapolation: z.object({ method: z.string(), perLayer: z.array(perLayerSchema), fullDepth: z.array(fullDepthSchema), vocabularyCost: z.record(z.string(), num).nullable() }),
  findings: z.array(z.string()),
  /** Exact counts for cells the run did not measure (absent: none given; `--from-json` keeps them). */
  exactCounts: z.array(exactCountsSchema).optional(),
});

export type TimeSplitResult = z.infer<typeof timeSplitSchema>;
export type PrefillResult = z.infer<typeof prefillResultSchema>;
export type DecodeResult = z.infer<typeof decodeResultSchema>;
export type LinkResult = z.infer<typeof linkResultSchema>;
export type ModelResult = z.infer<typeof modelResultSchema>;
export type PerLayerResult = z.infer<typeof perLayerSchema>;
export type FullDepthResult = z.infer<typeof fullDepthSchema>;
export type BenchResults = z.infer<typeof benchResultsSchema>;
export type ExactCounts = z.infer<typeof exactCountsSchema>;
