/** Response ids in OpenAI's style: a prefix and 32 random hex characters. */
import { randomUUID } from 'node:crypto';

export const responseId = (prefix: 'chatcmpl' | 'cmpl' | 'resp' | 'msg' | 'fc'): string => `${prefix}-${randomUUID().replaceAll('-', '')}`;

/** Unix seconds. */
export const unixNow = (): number => Math.floor(Date.now() / 1000);
