/** Reads a raw `text/event-stream` body frame by frame, exactly as sent. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  /** Every byte read so far, as text. */
  transcript = '';

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next complete frame (without its blank-line terminator), or undefined at the end. */
  async nextFrame(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const frame = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return frame;
      }
      const { done, value } = await this.reader.read();
      if (done) return this.buffer === '' ? undefined : this.buffer;
      const text = this.decoder.decode(value, { stream: true });
      this.transcript += text;
      this.buffer += text;
    }
  }

  /** All remaining frames. */
  async rest(): Promise<string[]> {
    const frames: string[] = [];
    for (let f = await this.nextFrame(); f !== undefined; f = await this.nextFrame()) frames.push(f);
    return frames;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

/** `data: {...}` frames -> parsed JSON; comments and [DONE] are skipped. */
export function dataObjects(frames: readonly string[]): Record<string, unknown>[] {
  return frames
    .filter((f) => f.startsWith('data: ') && f !== 'data: [DONE]')
    .map((f) => JSON.parse(f.slice('data: '.length)) as Record<string, unknown>);
}
