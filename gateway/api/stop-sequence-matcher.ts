/**
 * Stop strings are matched on text, not tokens (a stop may span token boundaries), and are
 * never emitted. While streaming, any tail of the pending text that could still grow into a
 * stop string is held back until it either completes the match or is ruled out.
 */
export class StopSequenceMatcher {
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /**
   * Adds newly decoded text. Returns what may be emitted now and, when a stop string
   * completed, `stopped: true` (the text before the stop is in `emit`; everything after is dropped).
   */
  push(text: string): { emit: string; stopped: boolean } {
    this.held += text;
    if (this.stops.length === 0) return this.release(this.held.length);
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      const emit = this.held.slice(0, cut);
      this.held = '';
      return { emit, stopped: true };
    }
    return this.release(this.held.length - this.longestPartialMatch());
  }

  /** At the end of generation (no stop matched): whatever is still held. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest suffix of `held` that is a proper prefix of some stop string. */
  private longestPartialMatch(): number {
    let best = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, this.held.length);
      for (let k = max; k > best; k--) {
        if (this.held.endsWith(stop.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }

  private release(length: number): { emit: string; stopped: boolean } {
    const emit = this.held.slice(0, length);
    this.held = this.held.slice(length);
    return { emit, stopped: false };
  }
}
