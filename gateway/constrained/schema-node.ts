/**
 * JSON Schema (the subset OpenAI's strict structured outputs accept) compiled to a small tree
 * of nodes the byte grammar walks: objects (properties in declared order; required ones must
 * appear, optional ones may be skipped; `additionalProperties` false unless given), arrays
 * (`items`, `minItems`, `maxItems`), strings, numbers, integers, booleans, null, `enum`,
 * `const`, `anyOf` (and `oneOf` read as `anyOf`), `type` lists, `$defs`/`definitions` with
 * local `$ref`s (recursion allowed). Anything else that would change what is valid (`pattern`,
 * `format`, `minLength`, `allOf`, `not`, `if`, ...) is refused with the schema path, so that
 * "schema-valid" is never an unchecked promise. Annotations (`title`, `description`,
 * `default`, `examples`) are ignored.
 *
 * Output is compact JSON (no insignificant whitespace): valid JSON, and it keeps the grammar
 * finite-choice at every structural byte so generation can always close in time.
 */

export type SchemaNode =
  | { id: number; kind: 'any' }
  | { id: number; kind: 'object'; properties: PropertyNode[]; additional: SchemaNode | null }
  | { id: number; kind: 'array'; items: SchemaNode; minItems: number; maxItems: number | undefined }
  | { id: number; kind: 'string' }
  | { id: number; kind: 'number'; integer: boolean }
  | { id: number; kind: 'literals'; texts: Uint8Array[] }
  | { id: number; kind: 'anyOf'; options: SchemaNode[] }
  | { id: number; kind: 'ref'; target: () => SchemaNode }
  | { id: number; kind: 'seq'; parts: SchemaNode[] };

export interface PropertyNode {
  key: string;
  /** `"key":` as bytes (JSON-escaped key, quotes and colon). */
  head: Uint8Array;
  node: SchemaNode;
  required: boolean;
}

/** The schema uses something outside the supported subset; `path` is a JSON pointer into it. */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '(root)'}: ${message}`);
  }
}

const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', '$comment', 'deprecated', 'readOnly', 'writeOnly', 'strict']);
const STRUCTURE = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'enum', 'const', 'anyOf', 'oneOf', '$ref', '$defs', 'definitions', 'nullable']);

const encoder = new TextEncoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

export class SchemaCompiler {
  private nextId = 0;
  /** Every node made, in creation order (for fixpoint computations over recursive schemas). */
  readonly nodes: SchemaNode[] = [];
  private readonly refs = new Map<string, SchemaNode>();
  private readonly root: Record<string, unknown>;

  constructor(root: unknown) {
    if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new UnsupportedSchemaError('', 'a schema must be a JSON object');
    this.root = root as Record<string, unknown>;
  }

  make<K extends SchemaNode['kind']>(node: Omit<Extract<SchemaNode, { kind: K }>, 'id'> & { kind: K }): Extract<SchemaNode, { kind: K }> {
    const made = { ...node, id: this.nextId++ } as Extract<SchemaNode, { kind: K }>;
    this.nodes.push(made);
    return made;
  }

  any(): SchemaNode {
    return this.make({ kind: 'any' });
  }

  /** Any JSON object (json_object mode). */
  anyObject(): SchemaNode {
    return this.make({ kind: 'object', properties: [], additional: this.any() });
  }

  literal(text: string): SchemaNode {
    return this.make({ kind: 'literals', texts: [utf8(text)] });
  }

  seq(parts: SchemaNode[]): SchemaNode {
    return this.make({ kind: 'seq', parts });
  }

  compileRoot(): SchemaNode {
    return this.compile(this.root, '');
  }

  compile(schema: unknown, path: string): SchemaNode {
    if (schema === true || (typeof schema === 'object' && schema !== null && Object.keys(schema).length === 0)) return this.any();
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new UnsupportedSchemaError(path, 'expected a schema object');
    const s = schema as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (!ANNOTATIONS.has(key) && !STRUCTURE.has(key)) throw new UnsupportedSchemaError(`${path}/${key}`, `the keyword '${key}' is not supported in structured outputs`);
    }
    if (s['$ref'] !== undefined) return this.ref(s['$ref'], `${path}/$ref`);
    if (s['const'] !== undefined) return this.make({ kind: 'literals', texts: [utf8(JSON.stringify(s['const']))] });
    if (s['enum'] !== undefined) {
      if (!Array.isArray(s['enum']) || s['enum'].length === 0) throw new UnsupportedSchemaError(`${path}/enum`, 'must be a non-empty array');
      return this.make({ kind: 'literals', texts: s['enum'].map((v) => utf8(JSON.stringify(v))) });
    }
    const union = s['anyOf'] ?? s['oneOf'];
    if (union !== undefined) {
      const key = s['anyOf'] !== undefined ? 'anyOf' : 'oneOf';
      if (!Array.isArray(union) || union.length === 0) throw new UnsupportedSchemaError(`${path}/${key}`, 'must be a non-empty array');
      return this.make({ kind: 'anyOf', options: union.map((option, i) => this.compile(option, `${path}/${key}/${i}`)) });
    }
    const type = s['type'];
    if (type === undefined) {
      if (s['properties'] !== undefined) return this.object(s, path);
      if (s['items'] !== undefined) return this.array(s, path);
      return this.any();
    }
    const types = Array.isArray(type) ? type : [type];
    if (s['nullable'] === true && !types.includes('null')) types.push('null');
    const nodes = types.map((t) => this.typed(String(t), s, path));
    return nodes.length === 1 ? nodes[0]! : this.make({ kind: 'anyOf', options: nodes });
  }

  private typed(type: string, s: Record<string, unknown>, path: string): SchemaNode {
    switch (type) {
      case 'object':
        return this.object(s, path);
      case 'array':
        return this.array(s, path);
      case 'string':
        return this.make({ kind: 'string' });
      case 'number':
        return this.make({ kind: 'number', integer: false });
      case 'integer':
        return this.make({ kind: 'number', integer: true });
      case 'boolean':
        return this.make({ kind: 'literals', texts: [utf8('true'), utf8('false')] });
      case 'null':
        return this.make({ kind: 'literals', texts: [utf8('null')] });
      default:
        throw new UnsupportedSchemaError(`${path}/type`, `unknown type '${type}'`);
    }
  }

  private object(s: Record<string, unknown>, path: string): SchemaNode {
    const props = (s['properties'] ?? {}) as Record<string, unknown>;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new UnsupportedSchemaError(`${path}/properties`, 'must be an object');
    const required = new Set(Array.isArray(s['required']) ? (s['required'] as unknown[]).map(String) : []);
    for (const name of required) {
      if (!Object.hasOwn(props, name)) throw new UnsupportedSchemaError(`${path}/required`, `'${name}' is required but not among the properties`);
    }
    const properties: PropertyNode[] = Object.entries(props).map(([key, sub]) => ({
      key,
      head: utf8(`${JSON.stringify(key)}:`),
      node: this.compile(sub, `${path}/properties/${escapePointer(key)}`),
      required: required.has(key),
    }));
    const extra = s['additionalProperties'];
    // OpenAI strict mode requires `additionalProperties: false`; elsewhere JSON Schema's
    // default is "anything", but an object with declared properties and no word on extras is
    // read as closed: generating unasked-for keys helps no caller.
    let additional: SchemaNode | null;
    if (extra === undefined) additional = properties.length === 0 ? this.any() : null;
    else if (extra === false) additional = null;
    else additional = this.compile(extra, `${path}/additionalProperties`);
    return this.make({ kind: 'object', properties, additional });
  }

  private array(s: Record<string, unknown>, path: string): SchemaNode {
    const minItems = s['minItems'] ?? 0;
    const maxItems = s['maxItems'];
    if (typeof minItems !== 'number' || !Number.isInteger(minItems) || minItems < 0) throw new UnsupportedSchemaError(`${path}/minItems`, 'must be a non-negative integer');
    if (maxItems !== undefined && (typeof maxItems !== 'number' || !Number.isInteger(maxItems) || maxItems < minItems)) {
      throw new UnsupportedSchemaError(`${path}/maxItems`, 'must be an integer >= minItems');
    }
    if (Array.isArray(s['items'])) throw new UnsupportedSchemaError(`${path}/items`, 'tuple items are not supported');
    const items = s['items'] === undefined ? this.any() : this.compile(s['items'], `${path}/items`);
    return this.make({ kind: 'array', items, minItems, maxItems: maxItems as number | undefined });
  }

  private ref(ref: unknown, path: string): SchemaNode {
    if (typeof ref !== 'string' || !/^#(\/(\$defs|definitions)\/[^/]+)?$/.test(ref)) {
      throw new UnsupportedSchemaError(path, `only local references '#', '#/$defs/NAME' and '#/definitions/NAME' are supported, got ${JSON.stringify(ref)}`);
    }
    const existing = this.refs.get(ref);
    if (existing) return existing;
    let resolved: SchemaNode | undefined;
    // Registered before compiling its target so that recursive references find it.
    const placeholder = this.make({
      kind: 'ref',
      target: () => {
        if (!resolved) throw new UnsupportedSchemaError(path, `reference ${ref} is used before it resolves`);
        return resolved;
      },
    });
    this.refs.set(ref, placeholder);
    let value: unknown = this.root;
    for (const part of ref.split('/').slice(1).map(unescapePointer)) {
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined) throw new UnsupportedSchemaError(path, `reference ${ref} points at nothing`);
    resolved = this.compile(value, ref.slice(1));
    // A reference that only leads to references (a -> b -> a) describes no value.
    // (Checked as far as resolved: an outer reference still compiling is checked when it ends.)
    let hop: SchemaNode = resolved;
    for (let i = 0; hop.kind === 'ref'; i++) {
      if (hop === placeholder || i > 64) throw new UnsupportedSchemaError(path, `reference ${ref} is circular without describing a value`);
      try {
        hop = hop.target();
      } catch {
        break;
      }
    }
    return placeholder;
  }
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointer(part: string): string {
  return part.replaceAll('~1', '/').replaceAll('~0', '~');
}
