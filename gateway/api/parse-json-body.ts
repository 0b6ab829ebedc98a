/**
 * Reads a JSON request body: 415 unless `application/json`, 400 for malformed JSON, then the
 * zod schema (400 naming the parameter). The body size limit (413) is enforced before this by
 * the body-limit middleware.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../errors/index.js';
import { validationError } from './validation-error.js';

export async function parseJsonBody<S extends z.ZodTypeAny>(
  c: Context,
  schema: S,
  precheck?: (raw: unknown) => void,
): Promise<z.infer<S>> {
  const contentType = c.req.header('content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new UnsupportedMediaTypeError(contentType);
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(
      `We could not parse the JSON body of your request (${error instanceof Error ? error.message : 'invalid JSON'}).`,
      { code: 'invalid_json' },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidRequestError('The request body must be a JSON object.', { code: 'invalid_json' });
  }
  precheck?.(raw);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data as z.infer<S>;
}
