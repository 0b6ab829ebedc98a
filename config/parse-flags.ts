/**
 * Command-line parsing shared by every command: flags (node:util parseArgs) with
 * environment-variable fallbacks, validated by one zod schema, every problem reported at once,
 * the result deep-frozen. A flag given on the command line wins over its environment variable.
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';

export interface FlagDefinition {
  type: 'string' | 'boolean';
  short?: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** One line for --help. */
  help: string;
  /** Placeholder shown in --help (default: VALUE). */
  value?: string;
}

export type FlagDefinitions = Record<string, FlagDefinition>;

export type ParsedCommandLine<T> = { config: T; help: false } | { help: true } | { errors: string[] };

/** A rule across flags, checked on the raw values so that it is reported with every other problem. */
export type CrossCheck = (raw: Readonly<Record<string, string | boolean>>) => { flag: string; message: string } | undefined;

export function parseCommandLine<S extends z.ZodTypeAny>(
  argv: readonly string[],
  definitions: FlagDefinitions,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  crossChecks: readonly CrossCheck[] = [],
): ParsedCommandLine<Readonly<z.output<S>>> {
  const errors: string[] = [];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, d] of Object.entries(definitions)) options[name] = d.short ? { type: d.type, short: d.short } : { type: d.type };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const longNames = new Set(Object.keys(options).map((n) => `--${n}`));
  const raw: Record<string, string | boolean> = {};
  const flagged = new Set<string>();
  const spelled = new Map<string, string>(); // name -> as the user wrote it (-n or --max-tokens)
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      errors.push(`unexpected argument ${JSON.stringify(token.value)}`);
      continue;
    }
    if (token.kind !== 'option') continue;
    if (token.name === 'help') {
      help = true;
      continue;
    }
    const spec = options[token.name];
    spelled.set(token.name, token.rawName);
    let problem: string | undefined;
    if (!spec) problem = 'unknown flag';
    else if (spec.type === 'boolean' && token.value !== undefined) problem = 'takes no value';
    else if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && longNames.has(token.value)))) problem = 'needs a value';
    if (problem) {
      errors.push(`${token.rawName}: ${problem}`);
      flagged.add(token.name);
    } else {
      raw[token.name] = token.value ?? true;
    }
  }
  if (help) return { help: true };
  const fromEnv = new Set<string>();
  for (const [name, d] of Object.entries(definitions)) {
    const value = d.env === undefined ? undefined : env[d.env];
    if (raw[name] === undefined && !flagged.has(name) && value !== undefined && value !== '') {
      raw[name] = d.type === 'boolean' ? /^(1|true|yes)$/i.test(value) : value;
      fromEnv.add(name);
    }
  }
  for (const check of crossChecks) {
    const problem = check(raw);
    if (problem) errors.push(`--${problem.flag}: ${problem.message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      if (flagged.has(name)) continue;
      const d = definitions[name];
      const label = name === '' ? '(flags)' : fromEnv.has(name) && d?.env ? `$${d.env}` : (spelled.get(name) ?? `--${name}`);
      errors.push(`${label}: ${issue.message}`);
    }
  }
  if (errors.length > 0 || !parsed.success) return { errors };
  return { config: deepFreeze(parsed.data) as Readonly<z.output<S>>, help: false };
}

/** The --help text of a command. */
export function usageText(command: string, summary: string, definitions: FlagDefinitions): string {
  const rows = Object.entries(definitions).map(([name, d]) => {
    const flag = `${d.short ? `-${d.short}, ` : ''}--${name}${d.type === 'string' ? ` ${d.value ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(30)} ${d.help}${d.env ? ` [$${d.env}]` : ''}`;
  });
  return `usage: permllm ${command} [flags]\n\n${summary}\n\n${rows.join('\n')}\n`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The start of every role command: parse, print every problem (exit 2) or the usage (exit 0),
 * else hand back the frozen config. One place for the wording and the exit codes.
 */
export function readCommandLine<S extends z.ZodTypeAny>(
  command: string,
  usage: string,
  argv: readonly string[],
  definitions: FlagDefinitions,
  schema: S,
  crossChecks: readonly CrossCheck[] = [],
  env: NodeJS.ProcessEnv = process.env,
): { config: Readonly<z.output<S>> } | { exitCode: number } {
  const parsed = parseCommandLine(argv, definitions, schema, env, crossChecks);
  if ('errors' in parsed) {
    process.stderr.write(`permllm ${command}: ${parsed.errors.length} problem(s):\n${parsed.errors.map((e) => `  ${e}\n`).join('')}\n${usage}`);
    return { exitCode: 2 };
  }
  if (parsed.help) {
    process.stdout.write(usage);
    return { exitCode: 0 };
  }
  return { config: parsed.config };
}
