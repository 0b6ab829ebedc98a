/**
 * How long the BFV token lookup holds the event loop, per unit and per call (issue 15).
 *
 * Part 1, the units on their own (median and max of a few runs, ms): the SEAL calls and the
 * JavaScript passes (bit-packing, flooding, table encoding) that the lookup is made of. None can
 * be cut smaller than itself, so the longest of them bounds any slicing.
 * Part 2, each call of the lookup's protocol path as a party makes it, at a vocabulary size and a
 * number of lookups per token: its duration and the longest stretch it ran without letting the
 * event loop turn (the longest gap of a setImmediate chain, which runs once per turn), against
 * the slice budget of compute/event-loop-slices.ts.
 *
 *   npx tsx scripts/token-lookup-stretches.ts [vocab ...]   (default 512 128256)
 *
 * Run it on an idle machine if the figures are to mean anything (print `uptime` beside them).
 */
import { loadavg } from 'node:os';
import { SLICE_BUDGET_MS } from '../compute/event-loop-slices.js';
import { Prg } from '../crypto/prg.js';
import { SLOTS, ciphertextsPerLookup, floodBits } from '../protocol/token-lookup/bfv-parameters.js';
import { packPolys, unpackPolys } from '../protocol/token-lookup/coefficient-packing.js';
import { floodNoise } from '../protocol/token-lookup/flood-noise.js';
import { getTemplates, plaintextFromCoefficients } from '../protocol/token-lookup/object-codec.js';
import { getBfvRuntime, secretKeyOf } from '../protocol/token-lookup/seal-runtime.js';
import { TokenLookupClient } from '../protocol/token-lookup/token-lookup-client.js';
import { TokenLookupServer } from '../protocol/token-lookup/token-lookup-server.js';

const vocabs = process.argv.slice(2).map(Number);
const REPEATS = 7;

function timeUnit(name: string, run: () => void, repeats = REPEATS): void {
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`  ${name.padEnd(52)} median ${times[Math.floor(times.length / 2)]!.toFixed(1).padStart(6)} ms, max ${times[times.length - 1]!.toFixed(1).padStart(6)} ms`);
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Runs `call` while a setImmediate chain records the longest gap between two of its turns, in
 * wall time and in the process's CPU time (only the main thread computes here, so the latter is
 * the time the main thread ran on a CPU in that gap: on a loaded machine the wall gap also holds
 * time spent waiting for a CPU, which no slicing can remove).
 */
async function stretch<T>(call: () => Promise<T> | T): Promise<{ value: T; ms: number; longestMs: number; longestCpuMs: number }> {
  let last = performance.now();
  let lastCpu = cpuMs();
  let longestMs = 0;
  let longestCpuMs = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    const cpu = cpuMs();
    longestMs = Math.max(longestMs, now - last);
    longestCpuMs = Math.max(longestCpuMs, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await new Promise((resolve) => setImmediate(resolve));
  const t0 = performance.now();
  last = t0;
  lastCpu = cpuMs();
  const value = await call();
  const ms = performance.now() - t0;
  tick();
  running = false;
  return { value, ms, longestMs, longestCpuMs };
}

const report = (name: string, r: { ms: number; longestMs: number; longestCpuMs: number }) =>
  console.log(
    `  ${name.padEnd(30)} ${r.ms.toFixed(1).padStart(7)} ms, longest stretch ${r.longestMs.toFixed(1).padStart(6)} ms wall, ${r.longestCpuMs.toFixed(1).padStart(5)} ms on a CPU${r.longestCpuMs > 2 * SLICE_BUDGET_MS ? '  (> 2 × budget)' : ''}`,
  );

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; slice budget ${SLICE_BUDGET_MS} ms`);
const runtime = await getBfvRuntime();
{
  const t0 = performance.now();
  getTemplates(runtime);
  console.log(`templates (first build in the process): ${(performance.now() - t0).toFixed(1)} ms`);
}
const { seal, context, evaluator } = runtime;
const templates = getTemplates(runtime);
const none = seal.ComprModeType.none;

console.log('units (each on its own):');
const keygen = seal.KeyGenerator(context);
const secretKey = secretKeyOf(seal, keygen);
const publicKey = keygen.createPublicKey();
const encryptor = seal.Encryptor(context, publicKey, secretKey);
const decryptor = seal.Decryptor(context, secretKey);
timeUnit('KeyGenerator (secret key)', () => seal.KeyGenerator(context).delete(), 3);
timeUnit('createPublicKey', () => keygen.createPublicKey().delete(), 3);
const pkBytes = (() => {
  const s = keygen.createPublicKeySerializable();
  const b = s.saveArray(none);
  s.delete();
  return b;
})();
const pkT = templates.publicKey;
const pkWire = new Uint8Array(pkT.wireBytes);
timeUnit('packPolys public key (1 × 4 primes)', () => packPolys(pkBytes, pkT.layout.dataOffset, 1, pkT.layout.degree, pkT.moduli, pkWire, 64));
timeUnit('unpackPolys public key', () => unpackPolys(pkWire, 64, 1, pkT.layout.degree, pkT.moduli, pkT.bytes.slice(), pkT.layout.dataOffset, 'pk'));
const pkLoaded = seal.PublicKey();
timeUnit('PublicKey.loadArray', () => pkLoaded.loadArray(context, pkBytes));
const oneHot = new Uint32Array(SLOTS);
oneHot[5] = 1;
const plain = plaintextFromCoefficients(runtime, oneHot);
timeUnit('plaintextFromCoefficients', () => plaintextFromCoefficients(runtime, oneHot).delete());
let queryBytes: Uint8Array = new Uint8Array(0);
timeUnit('encryptSymmetricSerializable + saveArray', () => {
  const s = encryptor.encryptSymmetricSerializable(plain);
  queryBytes = s.saveArray(none);
  s.delete();
});
const qT = templates.query;
const qWire = new Uint8Array(qT.wireBytes);
timeUnit('packPolys query ciphertext (1 × 3 primes)', () => packPolys(queryBytes, qT.layout.dataOffset, 1, qT.layout.degree, qT.moduli, qWire, 64));
timeUnit('unpackPolys query ciphertext', () => unpackPolys(qWire, 64, 1, qT.layout.degree, qT.moduli, qT.bytes.slice(), qT.layout.dataOffset, 'q'));
const query = seal.CipherText();
query.loadArray(context, queryBytes);
timeUnit('CipherText.loadArray query (expands the seed)', () => query.loadArray(context, queryBytes));
const tablePlain = plaintextFromCoefficients(runtime, Prg.random().permutation(SLOTS).map((v) => v % runtime.plainModulus));
const product = seal.CipherText();
timeUnit('multiplyPlain', () => evaluator.multiplyPlain(query, tablePlain, product));
timeUnit('add', () => evaluator.add(product, query, product));
timeUnit('encryptZero (public key)', () => encryptor.encryptZero()!.delete());
const blind = encryptor.encryptZero()!;
timeUnit('floodNoise', () => floodNoise(runtime, blind, floodBits(16)));
timeUnit('addPlain', () => evaluator.addPlain(blind, tablePlain, blind));
timeUnit('cipherModSwitchTo last level', () => {
  const c = seal.CipherText();
  c.copy(blind);
  evaluator.cipherModSwitchTo(c, runtime.lastParmsId, c);
  c.delete();
});
const answer = seal.CipherText();
answer.copy(blind);
evaluator.cipherModSwitchTo(answer, runtime.lastParmsId, answer);
const answerBytes = answer.saveArray(none);
timeUnit('saveArray answer', () => answer.saveArray(none));
const aT = templates.answer;
const aWire = new Uint8Array(aT.wireBytes);
timeUnit('packPolys answer (2 × 1 prime)', () => packPolys(answerBytes, aT.layout.dataOffset, 2, aT.layout.degree, aT.moduli, aWire, 0));
timeUnit('unpackPolys answer', () => unpackPolys(aWire, 0, 2, aT.layout.degree, aT.moduli, aT.bytes.slice(), aT.layout.dataOffset, 'a'));
timeUnit('CipherText.loadArray answer', () => answer.loadArray(context, answerBytes));
timeUnit('invariantNoiseBudget', () => decryptor.invariantNoiseBudget(answer));
timeUnit('decrypt', () => decryptor.decrypt(answer)!.delete());
for (const o of [answer, product, query, blind, tablePlain, plain, pkLoaded, decryptor, encryptor, publicKey, secretKey, keygen]) o.delete();

console.log('calls on the protocol path (longest stretch = longest time without an event-loop turn):');
report('TokenLookupClient.create', await stretch(() => TokenLookupClient.create().then((c) => c.dispose())));
const client = await TokenLookupClient.create();
for (const vocab of vocabs.length ? vocabs : [512, 128256]) {
  for (const lookups of [1, 21]) {
    console.log(` vocabulary ${vocab} (${ciphertextsPerLookup(vocab)} ciphertexts per lookup), ${lookups} lookup(s) per token:`);
    const fromSetup = await stretch(() => TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: lookups }));
    report('TokenLookupServer.fromSetup', fromSetup);
    const server = fromSetup.value;
    const table = Prg.random().permutation(vocab);
    const indices = Array.from({ length: lookups }, (_, l) => (l * 7919 + vocab - 1) % vocab);
    const ahead = await stretch(() => client.queryAhead(lookups, vocab));
    report('client.queryAhead', ahead);
    const prepared = await stretch(() => server.prepareShifted(table));
    report('server.prepareShifted', prepared);
    const offsets = client.offsetMessage(ahead.value, indices);
    const answered = await stretch(() => server.answerShifted(ahead.value.bytes, offsets, prepared.value));
    report('server.answerShifted', answered);
    const decoded = await stretch(() => client.decodeAnswersSliced(answered.value, vocab));
    report('client.decodeAnswersSliced', decoded);
    if (decoded.value.some((id, l) => id !== table[indices[l]!])) throw new Error('wrong token id');
    server.dispose();
  }
}
client.dispose();
