/**
 * Zod issues -> one `InvalidRequestError` naming the offending parameter the way OpenAI does
 * (`messages[0].content[1]`). Only the most specific issue is reported: clients fix one thing
 * at a time, and the message stays readable.
 */
import type { ZodError, ZodIssue } from 'zod';
import { InvalidRequestError, UnsupportedParameterError } from '../errors/index.js';

/** `['messages', 0, 'content', 1]` -> `messages[0].content[1]`. */
export function formatParamPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/**
 * For a union, the branch that got furthest into the input says the most. When every branch
 * failed at the union's own path (the value has none of the accepted shapes), the union itself
 * is reported (undefined is returned).
 */
function deepestBranchIssue(issue: ZodIssue): ZodIssue | undefined {
  if (issue.code !== 'invalid_union') return issue;
  let best: ZodIssue | undefined;
  for (const branch of issue.unionErrors) {
    for (const inner of branch.issues) {
      const candidate = deepestBranchIssue(inner);
      if (candidate && candidate.path.length > issue.path.length && (!best || candidate.path.length > best.path.length)) {
        best = candidate;
      }
    }
  }
  return best;
}

export function validationError(error: ZodError): InvalidRequestError {
  const first = error.issues[0];
  if (first === undefined) return new InvalidRequestError('Invalid request body.');
  const issue = deepestBranchIssue(first);
  if (issue === undefined) {
    const param = formatParamPath(first.path) || null;
    return new InvalidRequestError(`Invalid type for '${param ?? 'body'}': the value has none of the accepted forms.`, {
      param,
      code: 'invalid_type',
    });
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const param = formatParamPath([...issue.path, key]);
    return new UnsupportedParameterError(param, `Unrecognized request argument supplied: '${param}'. This gateway does not support it.`);
  }
  const param = formatParamPath(issue.path) || null;
  const where = param ? `'${param}'` : 'the request body';
  if (issue.code === 'invalid_type' && issue.received === 'undefined') {
    return new InvalidRequestError(`Missing required parameter: ${where}.`, { param, code: 'missing_required_parameter' });
  }
  if (issue.code === 'invalid_type') {
    return new InvalidRequestError(`Invalid type for ${where}: expected ${issue.expected}, but got ${issue.received}.`, {
      param,
      code: 'invalid_type',
    });
  }
  if (issue.code === 'invalid_union_discriminator') {
    const options = issue.options.map((o) => `'${String(o)}'`).join(', ');
    return new InvalidRequestError(`Invalid value for ${where}: expected one of ${options}.`, { param, code: 'invalid_value' });
  }
  return new InvalidRequestError(`Invalid value for ${where}: ${issue.message}.`, { param, code: 'invalid_value' });
}
