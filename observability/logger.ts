/**
 * The one logger of every party (engine P0, dealer P2, gateway P1) and of the commands: pino,
 * one JSON object per line (or pino-pretty's human form, by flag), levels, and a `role` field
 * on every line. Request-scoped lines carry `reqId`.
 *
 * What may never be logged: prompt or output text, token ids, shares, masks, keys, tokens or
 * API keys. Call sites log counts, durations, ids and outcomes only; as a second line of
 * defence the fields that could carry such data are redacted wherever they appear.
 */
import { destination as pinoDestination, pino, stdTimeFunctions, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = Level | 'silent';
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Field names whose values are replaced by "[redacted]" at any depth up to two levels. */
const SECRET_FIELDS = ['prompt', 'messages', 'content', 'text', 'tokens', 'authorization', 'apiKey', 'token', 'key'];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export interface LoggerOptions {
  /** The party or command: engine, dealer, gateway, start, ... */
  role: string;
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go (default: stderr, synchronously so the last lines before exit are not lost). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const format = options.format ?? 'json';
  const destination =
    format === 'pretty'
      ? pretty({
          destination: options.destination ?? 2,
          sync: true,
          colorize: false,
          ignore: 'pid,hostname,role',
          messageFormat: '{role}: {msg}',
          singleLine: true,
          translateTime: 'SYS:isoTime',
        })
      : (options.destination ?? pinoDestination({ dest: 2, sync: true }));
  return pino(
    {
      level: options.level ?? 'info',
      base: { role: options.role },
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that drops everything (library defaults and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The `(line: string) => void` callbacks the servers take, backed by a logger at `info`
 * (`warn` for lines that report a failure), so old call sites land in the same structured log.
 */
export function lineLogger(logger: Logger): (line: string) => void {
  return (line) => {
    if (/\b(fail|failed|error|refused|lost|unreachable|violation)\b/i.test(line)) logger.warn(line);
    else logger.info(line);
  };
}
