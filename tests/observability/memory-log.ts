/** A logger that keeps its JSON lines in memory, for tests that read what was logged. */
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogFormat } from '../../observability/logger.js';

export interface MemoryLog {
  logger: Logger;
  /** Every line as written. */
  raw(): string;
  /** Every line parsed (JSON format only). */
  entries(): Record<string, unknown>[];
}

export function memoryLog(role: string, format: LogFormat = 'json'): MemoryLog {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ role, format, level: 'debug', destination });
  return {
    logger,
    raw: () => chunks.join(''),
    entries: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
