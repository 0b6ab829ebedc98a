/**
 * A pushdown recogniser of compact JSON that matches a compiled schema (schema-node.ts), fed
 * one byte at a time. A state is a set of stacks (alternatives of `anyOf`, enums and optional
 * properties are followed side by side until the bytes tell them apart); a stack is an
 * immutable linked list of frames, so states share structure and can be cached by key.
 *
 * Besides "may this byte come next", the grammar knows the fewest bytes that complete a
 * stack (`minRemaining`): constrained decoding uses it to close the JSON within the token
 * budget, which is what makes valid output a guarantee rather than a likelihood.
 */
import type { PropertyNode, SchemaNode } from './schema-node.js';

type ObjectNode = Extract<SchemaNode, { kind: 'object' }>;
type ArrayNode = Extract<SchemaNode, { kind: 'array' }>;

/** Number lexer phases; the `*` ones may end the number. */
type NumberPhase = 'sign' | 'zero*' | 'int*' | 'dot' | 'frac*' | 'e' | 'esign' | 'exp*';

/** Digits allowed in the integer part, the fraction and the exponent (keeps every number finite and integers safe). */
const MAX_INT_DIGITS = 15;
const MAX_FRAC_DIGITS = 15;
const MAX_EXP_DIGITS = 2;

type Frame =
  | { t: 'V'; node: SchemaNode }
  | { t: 'L'; bytes: Uint8Array; pos: number }
  | { t: 'O'; node: ObjectNode; next: number; first: boolean }
  | { t: 'M'; node: ObjectNode; next: number }
  | { t: 'A'; node: ArrayNode; count: number }
  | { t: 'S'; esc: boolean; hex: number; u8: number }
  | { t: 'N'; integer: boolean; phase: NumberPhase; digits: number };

export interface Stack {
  readonly f: Frame;
  readonly up: Stack | null;
  key?: string;
  min?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON_BYTES = Uint8Array.of(0x3a);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

export class JsonByteGrammar {
  private readonly minLens = new Map<number, number>();
  private readonly bytesIds = new WeakMap<Uint8Array, number>();
  private nextBytesId = 0;
  private readonly anyObject: ObjectNode;
  private readonly anyArray: ArrayNode;

  /**
   * @param root the value to recognise
   * @param nodes every node reachable from root (the compiler's list), for minimum lengths
   * @param anyNode an `any` node, used to build the generic object and array of `any` values
   */
  constructor(
    readonly root: SchemaNode,
    nodes: readonly SchemaNode[],
    anyNode: SchemaNode,
  ) {
    this.anyObject = { id: -1, kind: 'object', properties: [], additional: anyNode };
    this.anyArray = { id: -2, kind: 'array', items: anyNode, minItems: 0, maxItems: undefined };
    this.computeMinLengths([...nodes, this.anyObject, this.anyArray]);
  }

  /** The start state: one stack expecting the root value. */
  initial(): Stack[] {
    return [{ f: { t: 'V', node: this.root }, up: null }];
  }

  /** Every stack `stack` can become after `byte` (none: the byte is not allowed). */
  feed(stack: Stack | null, byte: number, out: Stack[]): void {
    if (stack === null) return; // complete: nothing more may follow
    const f = stack.f;
    const up = stack.up;
    switch (f.t) {
      case 'V':
        return this.start(f.node, up, byte, out);
      case 'L':
        if (f.bytes[f.pos] !== byte) return;
        out.push(f.pos + 1 === f.bytes.length ? up ?? DONE : { f: { t: 'L', bytes: f.bytes, pos: f.pos + 1 }, up });
        return;
      case 'S':
        return this.stringByte(stack, f, up, byte, out);
      case 'N':
        return this.numberByte(f, up, byte, out);
      case 'O':
        if (byte === 0x7d /* } */) {
          if (!f.node.properties.slice(f.next).some((p) => p.required)) out.push(up ?? DONE);
          return;
        }
        if (f.first) return this.member(f.node, f.next, up, byte, out);
        if (byte === 0x2c /* , */ && this.canAddMember(f.node, f.next)) out.push({ f: { t: 'M', node: f.node, next: f.next }, up });
        return;
      case 'M':
        return this.member(f.node, f.next, up, byte, out);
      case 'A': {
        const { node, count } = f;
        if (byte === 0x5d /* ] */) {
          if (count >= node.minItems) out.push(up ?? DONE);
          return;
        }
        const room = node.maxItems === undefined || count < node.maxItems;
        if (count === 0) {
          if (room) this.start(node.items, { f: { t: 'A', node, count: this.capCount(node, 1) }, up }, byte, out);
        } else if (byte === 0x2c && room) {
          out.push({ f: { t: 'V', node: node.items }, up: { f: { t: 'A', node, count: this.capCount(node, count + 1) }, up } });
        }
        return;
      }
    }
  }

  /** True when the stack has recognised a whole value. */
  isComplete(stack: Stack | null): boolean {
    return stack === null || stack === DONE;
  }

  /** Fewest bytes that complete the stack (0 when complete). */
  minRemaining(stack: Stack | null): number {
    if (stack === null || stack === DONE) return 0;
    if (stack.min !== undefined) return stack.min;
    const min = this.frameMin(stack.f) + this.minRemaining(stack.up);
    stack.min = min;
    return min;
  }

  /**
   * The bytes of one shortest completion of the stack (`minRemaining` bytes long). Its
   * tokenization is a sequence of allowed tokens, so its token count bounds the tokens needed.
   */
  shortestCompletion(stack: Stack | null): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let s = stack; s !== null && s !== DONE; s = s.up) parts.push(this.frameShortest(s.f));
    return Buffer.concat(parts);
  }

  /** A string that identifies the stack (equal keys: equal futures). */
  key(stack: Stack | null): string {
    if (stack === null || stack === DONE) return '.';
    if (stack.key !== undefined) return stack.key;
    const key = `${this.frameKey(stack.f)}/${this.key(stack.up)}`;
    stack.key = key;
    return key;
  }

  // ----- value starts ---------------------------------------------------------------------

  private start(node: SchemaNode, up: Stack | null, byte: number, out: Stack[]): void {
    switch (node.kind) {
      case 'any':
        if (byte === 0x7b) out.push({ f: { t: 'O', node: this.anyObject, next: 0, first: true }, up });
        else if (byte === 0x5b) out.push({ f: { t: 'A', node: this.anyArray, count: 0 }, up });
        else if (byte === QUOTE) out.push({ f: { t: 'S', esc: false, hex: 0, u8: 0 }, up });
        else if (byte === 0x2d || isDigit(byte)) this.numberStart(false, up, byte, out);
        else for (const word of WORDS) this.literalStart(word, up, byte, out);
        return;
      case 'object':
        if (byte === 0x7b) out.push({ f: { t: 'O', node, next: 0, first: true }, up });
        return;
      case 'array':
        if (byte === 0x5b) out.push({ f: { t: 'A', node, count: 0 }, up });
        return;
      case 'string':
        if (byte === QUOTE) out.push({ f: { t: 'S', esc: false, hex: 0, u8: 0 }, up });
        return;
      case 'number':
        if (byte === 0x2d || isDigit(byte)) this.numberStart(node.integer, up, byte, out);
        return;
      case 'literals':
        for (const text of node.texts) this.literalStart(text, up, byte, out);
        return;
      case 'anyOf':
        for (const option of node.options) this.start(option, up, byte, out);
        return;
      case 'ref':
        return this.start(node.target(), up, byte, out);
      case 'seq': {
        let rest = up;
        for (let i = node.parts.length - 1; i >= 1; i--) rest = { f: { t: 'V', node: node.parts[i]! }, up: rest };
        if (node.parts.length === 0) return this.feed(rest, byte, out);
        return this.start(node.parts[0]!, rest, byte, out);
      }
    }
  }

  private literalStart(text: Uint8Array, up: Stack | null, byte: number, out: Stack[]): void {
    if (text[0] !== byte) return;
    out.push(text.length === 1 ? up ?? DONE : { f: { t: 'L', bytes: text, pos: 1 }, up });
  }

  private numberStart(integer: boolean, up: Stack | null, byte: number, out: Stack[]): void {
    const phase: NumberPhase = byte === 0x2d ? 'sign' : byte === 0x30 ? 'zero*' : 'int*';
    out.push({ f: { t: 'N', integer, phase, digits: phase === 'int*' ? 1 : 0 }, up });
  }

  // ----- objects ----------------------------------------------------------------------------

  /** Whether another member may follow members up to property index `next`. */
  private canAddMember(node: ObjectNode, next: number): boolean {
    return next < node.properties.length || node.additional !== null;
  }

  /** A member starts with its key's opening quote: every property that may come next, or an extra key. */
  private member(node: ObjectNode, next: number, up: Stack | null, byte: number, out: Stack[]): void {
    if (byte !== QUOTE) return;
    const props = node.properties;
    let j = next;
    for (; j < props.length; j++) {
      const p: PropertyNode = props[j]!;
      const after: Stack = { f: { t: 'O', node, next: j + 1, first: false }, up };
      out.push({ f: { t: 'L', bytes: p.head, pos: 1 }, up: { f: { t: 'V', node: p.node }, up: after } });
      if (p.required) return;
    }
    if (node.additional !== null) {
      const after: Stack = { f: { t: 'O', node, next: props.length, first: false }, up };
      const value: Stack = { f: { t: 'V', node: node.additional }, up: after };
      out.push({ f: { t: 'S', esc: false, hex: 0, u8: 0 }, up: { f: { t: 'L', bytes: COLON_BYTES, pos: 0 }, up: value } });
    }
  }

  // ----- strings and numbers ------------------------------------------------------------------

  private stringByte(stack: Stack, f: Extract<Frame, { t: 'S' }>, up: Stack | null, b: number, out: Stack[]): void {
    const at = (esc: boolean, hex: number, u8: number): Stack => ({ f: { t: 'S', esc, hex, u8 }, up });
    if (f.u8 > 0) {
      if (b >= 0x80 && b <= 0xbf) out.push(at(false, 0, f.u8 - 1));
      return;
    }
    if (f.hex > 0) {
      if (isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)) out.push(at(false, f.hex - 1, 0));
      return;
    }
    if (f.esc) {
      if (b === 0x75 /* u */) out.push(at(false, 4, 0));
      else if ('"\\/bfnrt'.includes(String.fromCharCode(b))) out.push(at(false, 0, 0));
      return;
    }
    if (b === QUOTE) out.push(up ?? DONE);
    else if (b === BACKSLASH) out.push(at(true, 0, 0));
    else if (b >= 0x20 && b < 0x80) out.push(stack); // plain content: the state does not change
    else if (b >= 0xc2 && b <= 0xdf) out.push(at(false, 0, 1));
    else if (b >= 0xe0 && b <= 0xef) out.push(at(false, 0, 2));
    else if (b >= 0xf0 && b <= 0xf4) out.push(at(false, 0, 3));
  }

  private numberByte(f: Extract<Frame, { t: 'N' }>, up: Stack | null, b: number, out: Stack[]): void {
    const to = (phase: NumberPhase, digits: number): void => {
      out.push({ f: { t: 'N', integer: f.integer, phase, digits }, up });
    };
    const digit = isDigit(b);
    switch (f.phase) {
      case 'sign':
        if (b === 0x30) to('zero*', 0);
        else if (digit) to('int*', 1);
        return;
      case 'int*':
        if (digit) {
          if (f.digits < MAX_INT_DIGITS) to('int*', f.digits + 1);
          return;
        }
        break;
      case 'dot':
        if (digit) to('frac*', 1);
        return;
      case 'frac*':
        if (digit) {
          if (f.digits < MAX_FRAC_DIGITS) to('frac*', f.digits + 1);
          return;
        }
        if (b === 0x65 || b === 0x45) return to('e', 0);
        break;
      case 'e':
        if (b === 0x2b || b === 0x2d) to('esign', 0);
        else if (digit) to('exp*', 1);
        return;
      case 'esign':
        if (digit) to('exp*', 1);
        return;
      case 'exp*':
        if (digit) {
          if (f.digits < MAX_EXP_DIGITS) to('exp*', f.digits + 1);
          return;
        }
        break;
      case 'zero*':
        break;
    }
    // An ending phase: '.' or an exponent may continue a non-integer, anything else ends the number.
    if (!f.integer && b === 0x2e && (f.phase === 'zero*' || f.phase === 'int*')) return to('dot', 0);
    if (!f.integer && (b === 0x65 || b === 0x45) && (f.phase === 'zero*' || f.phase === 'int*')) return to('e', 0);
    this.feed(up, b, out);
  }

  // ----- lengths and keys ------------------------------------------------------------------------

  private capCount(node: ArrayNode, count: number): number {
    return Math.min(count, Math.max(node.minItems, node.maxItems ?? 0) + 1);
  }

  private frameMin(f: Frame): number {
    switch (f.t) {
      case 'V':
        return this.minLen(f.node);
      case 'L':
        return f.bytes.length - f.pos;
      case 'S':
        return f.esc ? 2 : f.hex > 0 ? f.hex + 1 : f.u8 + 1;
      case 'N':
        return f.phase.endsWith('*') ? 0 : 1;
      case 'O': {
        const { sum, count } = this.requiredAfter(f.node, f.next);
        return 1 + sum + (f.first ? Math.max(0, count - 1) : count);
      }
      case 'M': {
        const { sum, count } = this.requiredAfter(f.node, f.next);
        if (count > 0) return sum + count - 1 + 1;
        let best = Infinity;
        for (const p of f.node.properties.slice(f.next)) best = Math.min(best, p.head.length + this.minLen(p.node));
        if (f.node.additional !== null) best = Math.min(best, 3 + this.minLen(f.node.additional));
        return best + 1;
      }
      case 'A': {
        const need = Math.max(0, f.node.minItems - f.count);
        if (f.count === 0) return need === 0 ? 1 : need * this.minLen(f.node.items) + need - 1 + 1;
        return need * (this.minLen(f.node.items) + 1) + 1;
      }
    }
  }

  private frameShortest(f: Frame): Uint8Array {
    switch (f.t) {
      case 'V':
        return this.shortestValue(f.node);
      case 'L':
        return f.bytes.subarray(f.pos);
      case 'S':
        if (f.esc) return ascii('n"');
        if (f.hex > 0) return ascii(`${'0'.repeat(f.hex)}"`);
        return Buffer.concat([new Uint8Array(f.u8).fill(0x80), ascii('"')]);
      case 'N':
        return ascii(f.phase.endsWith('*') ? '' : '0');
      case 'O': {
        const members = this.requiredMembers(f.node, f.next);
        const body = f.first ? joinComma(members) : Buffer.concat(members.map((m) => Buffer.concat([ascii(','), m])));
        return Buffer.concat([body, ascii('}')]);
      }
      case 'M': {
        const members = this.requiredMembers(f.node, f.next);
        if (members.length > 0) return Buffer.concat([joinComma(members), ascii('}')]);
        let best: Uint8Array | undefined;
        for (const p of f.node.properties.slice(f.next)) {
          const m = Buffer.concat([p.head, this.shortestValue(p.node)]);
          if (!best || m.length < best.length) best = m;
        }
        if (f.node.additional !== null) {
          const m = Buffer.concat([ascii('"":'), this.shortestValue(f.node.additional)]);
          if (!best || m.length < best.length) best = m;
        }
        return Buffer.concat([best ?? new Uint8Array(0), ascii('}')]);
      }
      case 'A': {
        const need = Math.max(0, f.node.minItems - f.count);
        const items = Array.from({ length: need }, () => this.shortestValue(f.node.items));
        return Buffer.concat([f.count === 0 ? joinComma(items) : Buffer.concat(items.map((m) => Buffer.concat([ascii(','), m]))), ascii(']')]);
      }
    }
  }

  private requiredMembers(node: ObjectNode, next: number): Uint8Array[] {
    return node.properties.slice(next).filter((p) => p.required).map((p) => Buffer.concat([p.head, this.shortestValue(p.node)]));
  }

  /** One shortest encoding of `node` (branches chosen by minimum length, so recursion ends). */
  private shortestValue(node: SchemaNode): Uint8Array {
    switch (node.kind) {
      case 'any':
      case 'number':
        return ascii('0');
      case 'string':
        return ascii('""');
      case 'literals':
        return node.texts.reduce((a, b) => (b.length < a.length ? b : a));
      case 'object':
        return Buffer.concat([ascii('{'), joinComma(this.requiredMembers(node, 0)), ascii('}')]);
      case 'array':
        return Buffer.concat([ascii('['), joinComma(Array.from({ length: node.minItems }, () => this.shortestValue(node.items))), ascii(']')]);
      case 'anyOf':
        return this.shortestValue(node.options.reduce((a, b) => (this.minLen(b) < this.minLen(a) ? b : a)));
      case 'ref':
        return this.shortestValue(node.target());
      case 'seq':
        return Buffer.concat(node.parts.map((p) => this.shortestValue(p)));
    }
  }

  private requiredAfter(node: ObjectNode, next: number): { sum: number; count: number } {
    let sum = 0;
    let count = 0;
    for (const p of node.properties.slice(next)) {
      if (!p.required) continue;
      sum += p.head.length + this.minLen(p.node);
      count++;
    }
    return { sum, count };
  }

  private frameKey(f: Frame): string {
    switch (f.t) {
      case 'V':
        return `V${f.node.id}`;
      case 'L':
        return `L${this.bytesId(f.bytes)}.${f.pos}`;
      case 'S':
        return `S${f.esc ? 1 : 0}${f.hex}${f.u8}`;
      case 'N':
        return `N${f.integer ? 'i' : 'n'}${f.phase}${f.digits}`;
      case 'O':
        return `O${f.node.id}.${f.next}${f.first ? 'f' : ''}`;
      case 'M':
        return `M${f.node.id}.${f.next}`;
      case 'A':
        return `A${f.node.id}.${f.count}`;
    }
  }

  private bytesId(bytes: Uint8Array): number {
    let id = this.bytesIds.get(bytes);
    if (id === undefined) {
      id = this.nextBytesId++;
      this.bytesIds.set(bytes, id);
    }
    return id;
  }

  minLen(node: SchemaNode): number {
    return this.minLens.get(node.id) ?? Infinity;
  }

  /** Shortest encoding of each node, by fixpoint iteration (recursive schemas converge). */
  private computeMinLengths(nodes: readonly SchemaNode[]): void {
    for (let changed = true, rounds = 0; changed && rounds < 1000; rounds++) {
      changed = false;
      for (const node of nodes) {
        const value = this.shortest(node);
        if (value < this.minLen(node)) {
          this.minLens.set(node.id, value);
          changed = true;
        }
      }
    }
  }

  private shortest(node: SchemaNode): number {
    switch (node.kind) {
      case 'any':
      case 'number':
        return 1;
      case 'string':
        return 2;
      case 'literals':
        return Math.min(...node.texts.map((t) => t.length));
      case 'object': {
        const { sum, count } = this.requiredAfter(node, 0);
        return 2 + sum + Math.max(0, count - 1);
      }
      case 'array':
        return 2 + (node.minItems > 0 ? node.minItems * this.minLen(node.items) + node.minItems - 1 : 0);
      case 'anyOf':
        return Math.min(...node.options.map((o) => this.minLen(o)));
      case 'ref':
        return this.minLen(node.target());
      case 'seq':
        return node.parts.reduce((sum, p) => sum + this.minLen(p), 0);
    }
  }
}

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');

function joinComma(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [ascii(','), p])));
}

/** The stack of a finished value (distinct from "no stack" so `out` can hold it). */
const DONE: Stack = Object.freeze({ f: { t: 'L', bytes: new Uint8Array(0), pos: 0 }, up: null, key: '.', min: 0 }) as Stack;

const WORDS = [new TextEncoder().encode('true'), new TextEncoder().encode('false'), new TextEncoder().encode('null')];
