/**
 * A ledger of live node-seal objects, for tests: SEAL objects live in WebAssembly memory that
 * the garbage collector never frees, so every one a session makes (keys, encryptors,
 * ciphertexts, plaintexts, serializables) must be .delete()d by its owner, on every path. Where
 * the WASM heap figure (wasm-heap.ts) shows a leak only after many sessions and a step of its
 * allocator, the ledger counts objects exactly: after one session, or one cancelled midway, it
 * must be back to zero.
 *
 * install() wraps the shared runtime's library (seal-runtime.ts, getBfvRuntime) so that every
 * object its factories return, and every object returned by a method or getter of such an
 * object (Encryptor.encryptSymmetricSerializable, Decryptor.decrypt, KeyGenerator.createPublicKey,
 * CipherText.parmsId ...), is counted until its first delete(). Objects node-seal makes and
 * frees inside one call are its own business; the shared context, encoder and evaluator live as
 * long as the process and are not counted.
 */
import { type BfvRuntime, getBfvRuntime } from '../../protocol/token-lookup/seal-runtime.js';

interface SealObject {
  delete(): void;
  readonly instance: unknown;
}

const isSealObject = (value: unknown): value is SealObject =>
  typeof value === 'object' && value !== null && typeof (value as { delete?: unknown }).delete === 'function' && 'instance' in value;

export interface SealLedger {
  /** Objects made since install() and not deleted yet, by the name of what made them. */
  live(): Map<string, number>;
  /** The total of live(). */
  liveCount(): number;
  uninstall(): void;
}

export async function installSealLedger(): Promise<SealLedger> {
  const runtime = (await getBfvRuntime()) as { -readonly [K in keyof BfvRuntime]: BfvRuntime[K] };
  const library = runtime.seal;
  const live = new Map<string, number>();
  const count = (name: string, by: number) => {
    const n = (live.get(name) ?? 0) + by;
    if (n === 0) live.delete(name);
    else live.set(name, n);
  };
  const track = <T>(value: T, name: string): T => {
    if (!isSealObject(value)) return value;
    count(name, 1);
    let deleted = false;
    const methods = new Map<PropertyKey, unknown>();
    return new Proxy(value, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (prop === 'delete') {
          return () => {
            if (!deleted) {
              deleted = true;
              count(name, -1);
            }
            target.delete();
          };
        }
        if (prop === 'instance') return v;
        if (typeof v === 'function') {
          if (!methods.has(prop)) methods.set(prop, (...args: unknown[]) => track((v as (...a: unknown[]) => unknown).apply(target, args), `${name}.${String(prop)}()`));
          return methods.get(prop);
        }
        // A getter that builds an object (e.g. CipherText.parmsId) hands the caller a new one.
        return track(v, `${name}.${String(prop)}`);
      },
    }) as T;
  };
  const wrapped = new Proxy(library, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => track((v as (...a: unknown[]) => unknown).apply(target, args), `seal.${String(prop)}()`);
    },
  });
  runtime.seal = wrapped;
  return {
    live: () => new Map(live),
    liveCount: () => [...live.values()].reduce((a, b) => a + b, 0),
    uninstall: () => {
      runtime.seal = library;
    },
  };
}
