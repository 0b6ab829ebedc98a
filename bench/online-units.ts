/**
 * The synchronous units of one online attention step at the largest prefill chunk of a ~500-token
 * prompt on stories260K (issue 15: "heavy per-step work … in bounded slices"), each timed alone
 * on this thread: key derivation, mask generation, the causal softmax permutation, applying and
 * inverting it, ring sums, frame coding and the user's softmax over the packed triangle. Every
 * unit that runs longer than the slice budget (compute/event-loop-slices.ts, 10 ms) in one
 * stretch holds the event loop that long; `--sliced` times the same step through the protocol's
 * sliced call sites and prints the longest stretch between two yields instead.
 *
 *   npx tsx bench/online-units.ts [--rows 32] [--start 464] [--repeat 7]
 *
 * Median of the repeats, in ms. CPU time depends on the machine's load: compare runs made side
 * by side, and read `uptime` beside them.
 */
import { parseArgs } from 'node:util';
import { ringAdd, ringSub } from '../compute/ring64.js';
import { SharedKey } from '../crypto/key-agreement.js';
import { loadModel, defaultModelPath } from '../model/load-model.js';
import { ringMask } from '../protocol/masks/ring-masks.js';
import { causalSize, drawCausalPermutation, packCausal, softmaxCausal, unpackCausal, type CausalShape } from '../protocol/subprotocols/ring/ring-causal.js';
import { narrowed } from '../protocol/subprotocols/ring/ring-narrowing.js';
import { decodeFrame, encodeFrame, MessageKind } from '../protocol/wire/frame.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '32' }, start: { type: 'string', default: '464' }, repeat: { type: 'string', default: '7' } } });
const model = await loadModel(defaultModelPath());
const c = model.config;
const rows = Number(values.rows);
const start = Number(values.start);
const repeat = Number(values.repeat);
const s: CausalShape = { heads: c.nHeads, rows, start };
const keys = start + rows;
const n = causalSize(s);
const full = c.nHeads * rows * keys;

const key = SharedKey.random();
const time = (what: string, elements: number, f: () => unknown): void => {
  const ts: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  console.log(`${what.padEnd(44)} ${String(elements).padStart(8)}  ${ts[ts.length >> 1]!.toFixed(2).padStart(7)} ms  (max ${ts[ts.length - 1]!.toFixed(2)})`);
};

console.log(`stories260K attention step: ${c.nHeads} heads, ${rows} rows from position ${start} (${keys} keys): scores ${full}, packed triangle ${n} elements`);
let label = 0;
time('subkey (HKDF) per label', 1, () => key.subkey(`${label++}/A`));
time('ringMask (AES-CTR keystream)', n, () => ringMask(key.prg(`${label++}/A`), n));
const a = ringMask(key.prg('a'), n);
const b = ringMask(key.prg('b'), n);
const scores = ringMask(key.prg('s'), full);
time('ringAdd', n, () => ringAdd(a, b));
time('ringSub', n, () => ringSub(a, b));
time('packCausal', full, () => packCausal(scores, s));
time('unpackCausal', n, () => unpackCausal(a, s));
time('drawCausalPermutation', n, () => drawCausalPermutation(key.prg(`${label++}/pi`), s));
const pi = drawCausalPermutation(key.prg('pi'), s);
time('Permutation.apply', n, () => pi.apply(a));
time('Permutation.invert', n, () => pi.invert(a));
const frame = { kind: MessageKind.PermOutput, seq: 0, step: 0, depth: 0, offline: false, parts: [a] };
const encoded = encodeFrame(frame);
time('encodeFrame (8-byte words)', n, () => encodeFrame(frame));
time('decodeFrame (8-byte words)', n, () => decodeFrame(encoded, 1 << 30));
const narrow = { ...frame, parts: [narrowed(a, 5)] };
const encodedNarrow = encodeFrame(narrow);
time('encodeFrame (narrowed, 5 bytes)', n, () => encodeFrame(narrow));
time('decodeFrame (narrowed, 5 bytes)', n, () => decodeFrame(encodedNarrow, 1 << 30));
// The user's softmax on a view of real-looking scores: small integers at the scores' exponent.
const view = new BigUint64Array(n);
for (let i = 0; i < n; i++) view[i] = BigInt.asUintN(64, BigInt(((i * 2654435761) % 4096) - 2048) << 20n);
time('softmaxCausal (user, whole triangle)', n, () => softmaxCausal(view, s, 1 / Math.sqrt(c.headDim), 24, 30));
