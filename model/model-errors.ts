/**
 * The one error every model loader throws for bad input: a truncated or oversized file, a
 * header with impossible values, an unknown architecture, an unsupported dtype. Loaders
 * validate before any math runs, so a bad checkpoint never surfaces as a crash deep inside
 * the forward pass.
 */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';

  /**
   * @param file the file (or folder) that is at fault, as given by the caller
   * @param problem what is wrong with it, in words (expected vs actual where it applies)
   */
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}
