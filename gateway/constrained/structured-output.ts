/**
 * Structured outputs as constraint programs: `json_object` (any JSON object), `json_schema`
 * (the strict subset, schema-node.ts) and tool calls (a function name and its arguments'
 * schema, wrapped in the model's tool-call syntax). Compiled once per request; each choice
 * gets its own `TokenConstraint` (they share the mask cache, so n choices cost one mask per
 * grammar state).
 */
import type { Tokenizer } from '../../model/tokenizer.js';
import { JsonByteGrammar } from './json-byte-grammar.js';
import { SchemaCompiler, type SchemaNode } from './schema-node.js';
import { MaskCache, TokenConstraint, type ProgramSegment } from './token-constraint.js';
import { VocabularyIndex } from './vocabulary-index.js';

const indexes = new WeakMap<Tokenizer, VocabularyIndex>();

/** The vocabulary index of a tokenizer, built once per tokenizer (about a second for 150k tokens). */
export function vocabularyIndex(tokenizer: Tokenizer): VocabularyIndex {
  let index = indexes.get(tokenizer);
  if (!index) {
    index = new VocabularyIndex(tokenizer);
    indexes.set(tokenizer, index);
  }
  return index;
}

/** One part of a structured output: fixed text or token, or a JSON value. */
export type OutputPart =
  | { kind: 'json'; schema: unknown | 'any-object' }
  | { kind: 'text'; text: string }
  | { kind: 'token'; id: number };

export class StructuredOutput {
  private readonly cache = new MaskCache();
  /** Plain-text encoding of completion bytes (undefined when they are not whole UTF-8). */
  private readonly encodeText = (bytes: Uint8Array): number[] | undefined => {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (Buffer.compare(Buffer.from(text, 'utf8'), bytes) !== 0) return undefined;
    const tokenizer = this.tokenizer;
    return tokenizer.encodeLiteral ? tokenizer.encodeLiteral(text) : tokenizer.encode(text, { addBos: false });
  };
  private readonly program: ProgramSegment[];

  /** Throws UnsupportedSchemaError (with the schema path) for schemas outside the subset. */
  constructor(
    private readonly tokenizer: Tokenizer,
    parts: readonly OutputPart[],
  ) {
    this.program = [];
    // Consecutive text and JSON parts form one grammar segment; a token part stands alone.
    let group: OutputPart[] = [];
    const flush = () => {
      if (group.length === 0) return;
      const json = group.filter((p): p is Extract<OutputPart, { kind: 'json' }> => p.kind === 'json');
      if (json.length > 1) throw new RangeError('a grammar segment holds at most one JSON value');
      const schema = json[0]?.schema;
      const compiler = new SchemaCompiler(schema === undefined || schema === 'any-object' ? {} : schema);
      const nodes: SchemaNode[] = group.map((p) =>
        p.kind === 'text' ? compiler.literal(p.text) : schema === 'any-object' ? compiler.anyObject() : compiler.compileRoot(),
      );
      const root = nodes.length === 1 ? nodes[0]! : compiler.seq(nodes);
      this.program.push({ kind: 'grammar', grammar: new JsonByteGrammar(root, compiler.nodes, compiler.any()) });
      group = [];
    };
    for (const part of parts) {
      if (part.kind === 'token') {
        flush();
        this.program.push({ kind: 'token', id: part.id });
      } else {
        group.push(part);
      }
    }
    flush();
  }

  /**
   * A fresh constraint for one completion of at most `maxTokens` tokens; `then: 'free'` hands
   * back to free text after the program instead of ending (a tool call inside a reply).
   */
  constraint(maxTokens: number, then: 'end' | 'free' = 'end'): TokenConstraint {
    return new TokenConstraint(this.program, vocabularyIndex(this.tokenizer), this.encodeText, this.tokenizer.eosIds, maxTokens, this.cache, then);
  }
}
