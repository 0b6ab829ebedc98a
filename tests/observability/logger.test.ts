/** The shared logger: JSON lines with level, time and role; levels honoured; secrets redacted. */
import { describe, expect, it } from 'vitest';
import { createLogger, lineLogger } from '../../observability/logger.js';
import { memoryLog } from './memory-log.js';

describe('createLogger', () => {
  it('writes one JSON object per line with level, ISO time and role', () => {
    const log = memoryLog('engine');
    log.logger.info({ sessions: 2 }, 'hello');
    const [entry] = log.entries();
    expect(entry).toMatchObject({ level: 'info', role: 'engine', sessions: 2, msg: 'hello' });
    expect(String(entry!['time'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops lines below the configured level', () => {
    const chunks: string[] = [];
    const logger = createLogger({ role: 'dealer', level: 'warn', destination: { write: (s: string) => void chunks.push(s) } });
    logger.info('quiet');
    logger.warn('loud');
    expect(chunks.join('')).not.toContain('quiet');
    expect(chunks.join('')).toContain('loud');
  });

  it('redacts fields that could carry prompt or output text or credentials, at any of three depths', () => {
    const log = memoryLog('gateway');
    log.logger.info({ prompt: 'SECRET-1', body: { messages: 'SECRET-2', inner: { content: 'SECRET-3' } }, authorization: 'SECRET-4', promptTokens: 7 }, 'x');
    expect(log.raw()).not.toMatch(/SECRET/);
    expect(log.entries()[0]).toMatchObject({ prompt: '[redacted]', promptTokens: 7 });
  });

  it('pretty format writes human lines, not JSON', () => {
    const log = memoryLog('gateway', 'pretty');
    log.logger.warn({ reqId: 'r1' }, 'something happened');
    expect(log.raw()).toMatch(/WARN.*gateway: something happened/);
    expect(() => JSON.parse(log.raw())).toThrow();
  });

  it('lineLogger sends failure lines at warn and the rest at info', () => {
    const log = memoryLog('engine');
    const line = lineLogger(log.logger);
    line('session 1 ended (completed)');
    line('dealer unreachable: connection refused');
    expect(log.entries().map((e) => e['level'])).toEqual(['info', 'warn']);
  });
});
