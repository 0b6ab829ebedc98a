/**
 * What a chat request asks the reply to be, beyond free text: tools (`tools`, `tool_choice`,
 * `parallel_tool_calls`) and structured outputs (`response_format`). Resolved into what the
 * template is given, how the reply is parsed, and the per-choice token constraint that P1 adds
 * to its own logit share (gateway/constrained). Every refusal names its parameter.
 */
import type { Tokenizer } from '../../model/tokenizer.js';
import type { LogitConstraint } from '../../sampling/logit-adjustments.js';
import { HERMES_CLOSE, HERMES_OPEN, ToolSyntax, type FunctionTool, type TemplateMessage } from '../chat/index.js';
import { SchemaCompiler, UnsupportedSchemaError } from '../constrained/schema-node.js';
import { LeadingCallConstraint } from '../constrained/leading-call-constraint.js';
import { StructuredOutput, vocabularyIndex, type OutputPart } from '../constrained/structured-output.js';
import { TriggeredConstraint } from '../constrained/token-constraint.js';
import { InvalidRequestError, UnsupportedParameterError } from '../errors/index.js';
import type { ChatToolBody, ResponseFormatBody, ToolChoiceBody } from './schemas/chat-completion-request.js';

export interface ChatOutputPlan {
  /** Messages for the template (tool descriptions added when the template has none). */
  messages: TemplateMessage[];
  /** `tools` for the template, when it renders them. */
  templateTools: unknown[] | undefined;
  /** How to find tool calls in the reply; undefined: the reply is content only. */
  toolSyntax: ToolSyntax | undefined;
  /** A fresh constraint per choice; undefined: unconstrained. */
  constraint: ((maxTokens: number) => LogitConstraint) | undefined;
}

export function planChatOutput(options: {
  messages: TemplateMessage[];
  tools: readonly ChatToolBody[] | undefined;
  toolChoice: ToolChoiceBody | undefined;
  responseFormat: ResponseFormatBody | undefined;
  tokenizer: Tokenizer;
  templateSource: string | undefined;
}): ChatOutputPlan {
  const { tokenizer } = options;
  const tools = (options.tools ?? []).map((t): FunctionTool => t.function);
  const choice = options.toolChoice ?? (tools.length > 0 ? 'auto' : 'none');
  if (choice !== 'none' && choice !== 'auto' && tools.length === 0) {
    throw new InvalidRequestError("Invalid value for 'tool_choice': it requires 'tools' to be specified.", { param: 'tool_choice' });
  }
  const names = new Set<string>();
  tools.forEach((tool, i) => {
    if (names.has(tool.name)) throw new InvalidRequestError(`Duplicate tool name '${tool.name}' in 'tools'.`, { param: `tools[${i}].function.name` });
    names.add(tool.name);
    if (tool.parameters !== undefined) checkSchema(tool.parameters, `tools[${i}].function.parameters`);
  });
  let forced = tools;
  if (typeof choice === 'object') {
    const named = tools.find((t) => t.name === choice.function.name);
    if (!named) throw new InvalidRequestError(`Invalid value for 'tool_choice': no tool named '${choice.function.name}' in 'tools'.`, { param: 'tool_choice' });
    forced = [named];
  }

  const structured = options.responseFormat && options.responseFormat.type !== 'text' ? options.responseFormat : undefined;
  if (structured?.type === 'json_schema' && structured.json_schema.schema !== undefined) {
    checkSchema(structured.json_schema.schema, 'response_format.json_schema.schema');
  }
  const needsConstraint = structured !== undefined || (choice !== 'none' && tools.length > 0);
  if (needsConstraint && tokenizer.tokenBytes === undefined) {
    throw new UnsupportedParameterError(
      structured ? 'response_format' : 'tools',
      "This model's tokenizer does not expose token bytes, so structured outputs and tool calls cannot be constrained.",
    );
  }

  if (choice === 'none' || tools.length === 0) {
    return { messages: options.messages, templateTools: undefined, toolSyntax: undefined, constraint: structured ? structuredConstraint(tokenizer, structured) : undefined };
  }

  const syntax = new ToolSyntax(options.templateSource);
  const messages = syntax.prepare(options.messages, tools);
  const templateTools = syntax.templateRendersTools ? options.tools!.map((t) => ({ type: 'function', function: t.function })) : undefined;
  const callSchema = callsSchema(syntax, choice === 'auto' ? tools : forced);

  if (choice === 'auto') {
    // The model decides. A structured format then binds the content; otherwise each call it
    // starts is constrained to the tools' schemas (hermes: after a single-token opener; json:
    // from the reply's first `{`).
    if (structured) return { messages, templateTools, toolSyntax: syntax, constraint: structuredConstraint(tokenizer, structured) };
    if (syntax.name === 'json') {
      // The whole reply is the call: once the model starts one (`{`), it is held to the schemas.
      const call = compile(tokenizer, [{ kind: 'json', schema: callSchema }], 'tools');
      return { messages, templateTools, toolSyntax: syntax, constraint: (maxTokens) => new LeadingCallConstraint(call, vocabularyIndex(tokenizer), tokenizer.eosIds, maxTokens) };
    }
    const opener = singleToken(tokenizer, HERMES_OPEN);
    if (opener === undefined) return { messages, templateTools, toolSyntax: syntax, constraint: undefined };
    const inner = new StructuredOutput(tokenizer, [{ kind: 'text', text: '\n' }, { kind: 'json', schema: callSchema }, { kind: 'text', text: '\n' }, tokenOrText(tokenizer, HERMES_CLOSE)]);
    return {
      messages,
      templateTools,
      toolSyntax: syntax,
      constraint: (maxTokens) => new TriggeredConstraint(opener, (left) => inner.constraint(left, 'free'), maxTokens),
    };
  }

  // `required` or a named function: exactly one call, constrained from the first token.
  const parts: OutputPart[] =
    syntax.name === 'hermes'
      ? [tokenOrText(tokenizer, HERMES_OPEN), { kind: 'text', text: '\n' }, { kind: 'json', schema: callSchema }, { kind: 'text', text: '\n' }, tokenOrText(tokenizer, HERMES_CLOSE)]
      : [{ kind: 'json', schema: callSchema }];
  const output = compile(tokenizer, parts, 'tools');
  return { messages, templateTools, toolSyntax: syntax, constraint: (maxTokens) => output.constraint(maxTokens) };
}

function structuredConstraint(tokenizer: Tokenizer, format: Exclude<ResponseFormatBody, { type: 'text' }>): (maxTokens: number) => LogitConstraint {
  const schema = format.type === 'json_object' ? 'any-object' : (format.json_schema.schema ?? 'any-object');
  const output = compile(tokenizer, [{ kind: 'json', schema }], 'response_format');
  return (maxTokens) => output.constraint(maxTokens);
}

function compile(tokenizer: Tokenizer, parts: OutputPart[], param: string): StructuredOutput {
  try {
    return new StructuredOutput(tokenizer, parts);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) throw new InvalidRequestError(`Invalid schema: ${error.message}`, { param, code: 'invalid_schema' });
    throw error;
  }
}

function checkSchema(schema: unknown, param: string): void {
  try {
    new SchemaCompiler(schema).compileRoot();
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) {
      throw new InvalidRequestError(`Invalid schema for '${param}': ${error.message}`, { param, code: 'invalid_schema' });
    }
    throw error;
  }
}

/**
 * One schema for "a call of any of these tools". Each tool's own `$defs` / `definitions` are
 * hoisted under a per-tool prefix and its local `$ref`s rewritten to match, so that references
 * keep pointing where they did inside the tool's parameters.
 */
function callsSchema(syntax: ToolSyntax, tools: readonly FunctionTool[]): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const options = tools.map((tool, i) => {
    const prefix = `t${i}_`;
    const params = tool.parameters ?? { type: 'object' };
    for (const key of ['$defs', 'definitions'] as const) {
      const own = params[key];
      if (typeof own === 'object' && own !== null) {
        for (const [name, def] of Object.entries(own)) defs[`${prefix}${key === '$defs' ? 'd' : 'D'}_${name}`] = rewriteRefs(def, prefix);
      }
    }
    defs[`${prefix}root`] = rewriteRefs(params, prefix);
    return syntax.callSchema({ ...tool, parameters: { $ref: `#/$defs/${prefix}root` } });
  });
  return { ...(options.length === 1 ? options[0] : { anyOf: options }), $defs: defs };
}

function rewriteRefs(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, prefix));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$defs' || key === 'definitions') continue;
    if (key === '$ref' && typeof v === 'string') {
      if (v === '#') out[key] = `#/$defs/${prefix}root`;
      else if (v.startsWith('#/$defs/')) out[key] = `#/$defs/${prefix}d_${v.slice(8)}`;
      else if (v.startsWith('#/definitions/')) out[key] = `#/$defs/${prefix}D_${v.slice(14)}`;
      else out[key] = v;
      continue;
    }
    out[key] = rewriteRefs(v, prefix);
  }
  return out;
}

/** The id when `text` is exactly one (added) token of this vocabulary. */
function singleToken(tokenizer: Tokenizer, text: string): number | undefined {
  const ids = tokenizer.encode(text, { addBos: false });
  return ids.length === 1 ? ids[0] : undefined;
}

function tokenOrText(tokenizer: Tokenizer, text: string): OutputPart {
  const id = singleToken(tokenizer, text);
  return id !== undefined && (tokenizer.tokenBytes?.(id).length ?? 0) === 0 ? { kind: 'token', id } : { kind: 'text', text };
}
