/**
 * Streaming tool calls: the model's reply arrives as text pieces; content is passed on at
 * once, except what may be the start of a call (a partial `<tool_call>`, or a `json`-syntax
 * reply that opens with `{`), which is held until it is clearly one or the other. A finished
 * call becomes one `ParsedToolCall`; the chat formatter turns it into OpenAI's deltas (the
 * first carrying id, type and name with empty arguments, the next the arguments).
 */
import { HERMES_CLOSE, HERMES_OPEN, type ParsedToolCall, type ToolSyntax } from '../chat/index.js';

export type ToolStreamEvent = { type: 'content'; text: string } | { type: 'call'; call: ParsedToolCall };

export class ToolCallStream {
  private pending = '';
  private inCall = false;
  /** Whitespace-only content, emitted only if real content follows (not between calls). */
  private heldSpace = '';
  private calls = 0;
  private sawContent = false;

  constructor(private readonly syntax: ToolSyntax) {}

  get callCount(): number {
    return this.calls;
  }

  push(text: string): ToolStreamEvent[] {
    this.pending += text;
    return this.syntax.name === 'hermes' ? this.drainHermes(false) : this.drainJson(false);
  }

  flush(): ToolStreamEvent[] {
    const events = this.syntax.name === 'hermes' ? this.drainHermes(true) : this.drainJson(true);
    if (this.calls === 0 && this.heldSpace !== '') events.push({ type: 'content', text: this.heldSpace });
    this.heldSpace = '';
    return events;
  }

  private content(text: string, out: ToolStreamEvent[]): void {
    if (text === '') return;
    if (text.trim() === '') {
      this.heldSpace += text;
      return;
    }
    out.push({ type: 'content', text: this.heldSpace + text });
    this.heldSpace = '';
    this.sawContent = true;
  }

  private call(call: ParsedToolCall, out: ToolStreamEvent[]): void {
    this.heldSpace = '';
    this.calls++;
    out.push({ type: 'call', call });
  }

  private drainHermes(final: boolean): ToolStreamEvent[] {
    const out: ToolStreamEvent[] = [];
    for (;;) {
      if (!this.inCall) {
        const at = this.pending.indexOf(HERMES_OPEN);
        if (at >= 0) {
          this.content(this.pending.slice(0, at), out);
          this.pending = this.pending.slice(at + HERMES_OPEN.length);
          this.inCall = true;
          continue;
        }
        const keep = final ? 0 : partialSuffix(this.pending, HERMES_OPEN);
        this.content(this.pending.slice(0, this.pending.length - keep), out);
        this.pending = this.pending.slice(this.pending.length - keep);
        return out;
      }
      const end = this.pending.indexOf(HERMES_CLOSE);
      if (end < 0 && !final) return out;
      const body = end < 0 ? this.pending : this.pending.slice(0, end);
      const parsed = this.syntax.parse(`${HERMES_OPEN}${body}${HERMES_CLOSE}`).calls[0];
      if (parsed) this.call(parsed, out);
      else this.content(`${HERMES_OPEN}${body}${end < 0 ? '' : HERMES_CLOSE}`, out);
      this.pending = end < 0 ? '' : this.pending.slice(end + HERMES_CLOSE.length);
      this.inCall = false;
      if (end < 0) return out;
    }
  }

  private drainJson(final: boolean): ToolStreamEvent[] {
    const out: ToolStreamEvent[] = [];
    if (this.sawContent || !this.pending.trimStart().startsWith('{')) {
      // Not a call (or undecided while only whitespace has come): plain content.
      if (this.pending.trim() === '' && !final) return out;
      this.content(this.pending, out);
      this.pending = '';
      return out;
    }
    if (!final) return out;
    const parsed = this.syntax.parse(this.pending);
    if (parsed.calls.length > 0) for (const call of parsed.calls) this.call(call, out);
    else this.content(this.pending, out);
    this.pending = '';
    return out;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) if (marker.startsWith(text.slice(text.length - n))) return n;
  return 0;
}
