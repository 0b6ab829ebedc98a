/**
 * The gateway's MulW products, computed one decode pass ahead (issue 12: "everything that
 * depends only on offline data is computed ahead of the online step").
 *
 * MulW (protocol.md, "MulW"): P1's share of a linear output is C1 = f(X − U, V) + W1, and V is a
 * k12 mask drawn by label: `${step}/V`, or an Elem's output mask B′ = `${step}/B2` (then D = 0).
 * So f(X − U, V), the product that costs P1 its time, depends only on offline data: the weight
 * P1 holds, the label and the shape. This pool makes those products for the coming pass while
 * the gateway waits on a link (PartyNetwork.whileWaiting), and hands each to the MulW that
 * needs it; W1 (the dealer's) is still added when it is consumed (an addition, not a product).
 *
 * Knowing the next pass's calls. The schedule is executed identically by all parties and every
 * sub-protocol call takes the next step number, so a decode pass (one row) makes the same calls
 * as the pass before it, each at a step and with a label shifted by the pass's length in steps.
 * The pool records the calls of a pass (record) and, once its forward part is done and the
 * next pass's first step is known, predicts the next pass as those calls shifted by that
 * length, at one row (predictNextPass). That is a prediction, never trusted: take() hands out a
 * product only when the call it was made for is the call being made (same step, label, linear
 * map identity and rows) and the V it was made from is bit for bit the V in hand; anything
 * else (a schedule that changed, a chunked prefill's pass, a call not predicted) is a miss, and
 * MulW computes the product online as before. A wrong result is therefore impossible: a hit is
 * f(X − U, V) for the very V and f of the call, and the products are exact (ring64) or the
 * same deterministic float computation (float profiles).
 *
 * Bounds: only the coming pass's products exist (one token ahead), each held with the V it was
 * made from: for a one-row pass at most Σ over its MulWs of (inDim + outDim) words (8 bytes
 * each); at Llama-3.1-8B layer shapes 0.56 MB per layer plus the embedding's and the head's
 * vocabulary-wide vectors (2 × 8 × (vocab + dim) bytes: 2 MB at a 128k vocabulary). `heldBytes` / `peakBytes` report it. Products
 * are consumed in order and at most once; an entry passed over is dropped. dispose() (session
 * end, cancel, failure) drops everything; a product still running when it ends is dropped when
 * it finishes, and `settled()` waits for that.
 */

import { yieldIfDue } from '../../compute/event-loop-slices.js';

/** A V or a product: ring64 shares, or float shares. */
export type ShareArray = BigUint64Array | Float64Array;

/** One MulW call as the gateway makes it: enough to make the same product for another step. */
export interface MulWCall {
  step: number;
  /** The k12 label V is drawn from. */
  vLabel: string;
  /** Identity of the linear map (the party's weight object): same key and rows, same f. */
  key: object;
  rows: number;
  /** Draws V for `label` over `rows` rows exactly as MulW draws it. */
  drawV(label: string, rows: number): ShareArray;
  /** f(X − U, v) at this party over `rows` rows. */
  product(v: ShareArray, rows: number): Promise<ShareArray>;
}

export interface ProductsAheadStats {
  /** Products handed to MulW ready. */
  hits: number;
  /** Of the hits, those MulW waited for (they were still being made when it needed them). */
  lateHits: number;
  /** Calls for which no product was predicted, or the prediction did not match the call. */
  misses: number;
  /** Of the misses, predictions that named this step but another call or another V. */
  mismatches: number;
  /** Predicted products not started when MulW needed them (MulW made them online). */
  notReady: number;
  /** Products made ahead. */
  produced: number;
  /** Products made or predicted but never consumed (passed over, or dropped at the end). */
  dropped: number;
}

interface Entry {
  call: MulWCall;
  step: number;
  vLabel: string;
  rows: number;
  state: 'queued' | 'producing' | 'ready' | 'failed' | 'gone';
  v?: ShareArray | undefined;
  result?: ShareArray | undefined;
  producing?: Promise<void>;
}

const LABEL = /^(\d+)(\/.+)$/;

/** The label of a k12 mask `shift` steps later (labels are `${step}/${name}`); undefined for any other form. */
export function shiftLabel(label: string, shift: number): string | undefined {
  const m = LABEL.exec(label);
  if (!m) return undefined;
  return `${Number(m[1]) + shift}${m[2]}`;
}

function sameBits(a: ShareArray, b: ShareArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  // Both hold 8-byte elements at 8-aligned offsets: compare 32-bit words.
  const x = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export class ProductsAhead {
  readonly stats: ProductsAheadStats = { hits: 0, lateHits: 0, misses: 0, mismatches: 0, notReady: 0, produced: 0, dropped: 0 };
  private queue: Entry[] = [];
  private template: MulWCall[] | undefined;
  private readonly running = new Set<Promise<void>>();
  private held = 0;
  private peak = 0;
  private disposed = false;

  /** Bytes of products and their V held now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Most bytes held at any time. */
  get peakBytes(): number {
    return this.peak;
  }

  /** Predicted products not yet consumed or dropped. */
  get pending(): number {
    return this.queue.length;
  }

  /** Products being made now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts recording this pass's calls (the template of the next pass). */
  beginPass(): void {
    if (!this.disposed) this.template = [];
  }

  /** Called by MulW for every call it makes at the gateway (hit or miss). */
  record(call: MulWCall): void {
    this.template?.push(call);
  }

  /**
   * The recorded pass's forward part is done: its calls, each `shift` steps later and at one row,
   * are the next pass's predicted calls (what is left of an earlier prediction is dropped).
   * `shift` undefined: no next pass to predict (stop recording).
   */
  predictNextPass(shift: number | undefined): void {
    const calls = this.template ?? [];
    this.template = undefined;
    if (this.disposed) return;
    this.dropAll();
    if (shift === undefined) return;
    for (const call of calls) {
      const vLabel = shiftLabel(call.vLabel, shift);
      if (vLabel !== undefined) this.queue.push({ call, step: call.step + shift, vLabel, rows: 1, state: 'queued' });
    }
  }

  /**
   * The product for `call`, whose V is `v`, if one was made ahead for exactly this call and V
   * (waiting for it when it is being made); undefined otherwise (MulW computes it online). Each
   * product is handed out once, and entries for earlier steps are dropped.
   */
  async take(call: Omit<MulWCall, 'drawV' | 'product'>, v: ShareArray): Promise<ShareArray | undefined> {
    while (this.queue.length > 0 && this.queue[0]!.step < call.step) this.drop(this.queue.shift()!);
    const head = this.queue[0];
    if (!head || head.step !== call.step) {
      this.stats.misses++;
      return undefined;
    }
    this.queue.shift();
    if (head.vLabel !== call.vLabel || head.call.key !== call.key || head.rows !== call.rows) return this.mismatch(head);
    if (head.state === 'queued') {
      this.stats.notReady++;
      this.stats.misses++;
      this.drop(head);
      return undefined;
    }
    let late = false;
    if (head.state === 'producing') {
      late = true;
      await head.producing;
    }
    // dispose() may have run meanwhile: the entry is then gone.
    if ((head.state as Entry['state']) !== 'ready' || !head.result || !head.v) {
      this.stats.misses++;
      this.drop(head);
      return undefined;
    }
    if (!sameBits(head.v, v)) return this.mismatch(head);
    const result = head.result;
    this.release(head);
    head.state = 'gone';
    this.stats.hits++;
    if (late) this.stats.lateHits++;
    return result;
  }

  /**
   * Makes predicted products, in order, one at a time, while `waiting` is pending (the party is
   * blocked on a link). Returns when `waiting` settles or nothing is left to make; a product
   * under way then finishes in the background (its backend calls interleave with the online
   * step's), and the next wait lets it finish before starting another. Never throws.
   */
  async runWhile(waiting: Promise<unknown>): Promise<void> {
    let settled = false;
    const done = waiting.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    for (let units = 0; !settled && !this.disposed; units++) {
      // Small products run in JS without yielding: between two, let the event loop poll (the arrival is I/O).
      if (units > 0) {
        await yieldIfDue();
        if (settled || this.disposed) return;
      }
      // One product at a time: one still under way from an earlier wait finishes first.
      const under = this.running.values().next();
      if (!under.done) {
        await Promise.race([under.value, done]);
        continue;
      }
      const next = this.queue.find((e) => e.state === 'queued');
      if (!next) return;
      await Promise.race([this.produce(next), done]);
    }
  }

  /** Drops every product and prediction and stops production (session end or cancel). Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.template = undefined;
    this.dropAll();
  }

  /** Resolves once no product is being made (after dispose(): nothing is held any more). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private produce(entry: Entry): Promise<void> {
    entry.state = 'producing';
    const run = (async () => {
      try {
        const v = entry.call.drawV(entry.vLabel, entry.rows);
        const result = await entry.call.product(v, entry.rows);
        if ((entry.state as Entry['state']) !== 'producing') return; // dropped meanwhile
        entry.v = v;
        entry.result = result;
        entry.state = 'ready';
        this.stats.produced++;
        this.held += v.byteLength + result.byteLength;
        this.peak = Math.max(this.peak, this.held);
      } catch {
        // A failed product is made online again by MulW, which reports the error if it is real.
        if ((entry.state as Entry['state']) === 'producing') entry.state = 'failed';
      }
    })();
    entry.producing = run;
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private mismatch(entry: Entry): undefined {
    this.stats.mismatches++;
    this.stats.misses++;
    this.drop(entry);
    return undefined;
  }

  private release(entry: Entry): void {
    if (entry.state === 'ready' && entry.v && entry.result) this.held -= entry.v.byteLength + entry.result.byteLength;
    entry.v = undefined;
    entry.result = undefined;
  }

  private drop(entry: Entry): void {
    if (entry.state === 'gone') return;
    this.release(entry);
    entry.state = 'gone';
    this.stats.dropped++;
  }

  private dropAll(): void {
    for (const e of this.queue.splice(0)) this.drop(e);
  }
}
