/**
 * The synchronous units of one online attention step at the largest prefill chunk of a ~500-token
 * prompt on stories260K (issue 15: "heavy per-step work … in bounded slices"), each timed alone
 * on this thread: key derivation, mask generation, the causal softmax permutation, applying and
 * inverting it, ring sums, frame coding and the user's softmax over the packed triangle. Every
 * unit that runs longer than the slice budget (compute/event-loop-slices.ts, 10 ms) in one
 * stretch holds the event loop that long. Then the whole step as the protocol runs it: Elem(softmax)
 * over the triangle with all three parties in this process (ring-causal-softmax.ts), and the
 * longest stretch of the main thread between two turns of the event loop (a setImmediate probe).
 *
 *   npx tsx bench/online-units.ts [--rows 32] [--start 464] [--repeat 7]
 *
 * Times are this process's CPU time (process.cpuUsage: the main thread, plus whatever V8's helper
 * threads do meanwhile), so that a loaded machine's scheduling does not count; median and max of
 * the repeats, in ms.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { encodeFixed, ringAdd, ringSub, type Ring } from '../compute/ring64.js';
import { SharedKey } from '../crypto/key-agreement.js';
import { loadModel, defaultModelPath } from '../model/load-model.js';
import { ringMask } from '../protocol/masks/ring-masks.js';
import { causalSize, drawCausalPermutation, packCausal, softmaxCausal, unpackCausal, type CausalShape } from '../protocol/subprotocols/ring/ring-causal.js';
import { narrowed } from '../protocol/subprotocols/ring/ring-narrowing.js';
import { decodeFrame, encodeFrame, MessageKind } from '../protocol/wire/frame.js';
import { RING64_PROFILE } from '../protocol/masks/mask-profile.js';
import { ringCausalSoftmax } from '../protocol/subprotocols/ring/ring-causal-softmax.js';
import { ThreeParties } from '../tests/helpers/three-party-harness.js';

/** This process's CPU time (ms): nothing else runs here, so this is the main thread's, plus V8's helpers. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

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
    const t0 = cpuMs();
    f();
    ts.push(cpuMs() - t0);
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
// The user's softmax on a view of scores of legitimate size at exponent 20.
const x = encodeFixed(key.prg('x').uniformArray(full, 6), 20);
const view = packCausal(x, s);
time('softmaxCausal (user, whole triangle)', n, () => softmaxCausal(view, s, 1 / Math.sqrt(c.headDim), 20, 24));

// The whole step, three parties in this thread: the longest stretch between two turns of the event loop.
const longest: number[] = [];
const totals: number[] = [];
for (let r = 0; r < repeat; r++) {
  const h = new ThreeParties({ profile: RING64_PROFILE });
  const x1 = ringMask(key.prg(`x1/${r}`), full);
  const shares: Record<string, Ring | undefined> = { engine: ringSub(x, x1), gateway: x1 };
  let last = cpuMs();
  let most = 0;
  let probing = true;
  const tick = () => {
    const now = cpuMs();
    most = Math.max(most, now - last);
    last = now;
    if (probing) setImmediate(tick);
  };
  setImmediate(tick);
  const t0 = cpuMs();
  await h.run((ctx) => ringCausalSoftmax(ctx, { meta: { offlineKnown: false }, share: shares[ctx.role], size: full }, s, 1 / Math.sqrt(c.headDim), 20, 24));
  totals.push(cpuMs() - t0);
  probing = false;
  tick();
  longest.push(most);
  h.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`Elem(softmax) step, 3 parties in one thread: ${median(totals).toFixed(1)} ms on a CPU; longest stretch between two event-loop turns ${median(longest).toFixed(1)} ms (median; max ${Math.max(...longest).toFixed(1)}) (load average ${loadavg()[0]!.toFixed(1)})`);
