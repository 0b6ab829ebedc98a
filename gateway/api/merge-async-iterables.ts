/**
 * Interleaves several async iterators (the n choices of one request) in arrival order. When
 * the consumer stops early, or one source throws, every other source is returned so that no
 * backend session is left running.
 */
export async function* mergeAsyncIterables<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T, void, undefined> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  type Step = { i: number; result: IteratorResult<T> };
  const pending = new Map<number, Promise<Step>>();
  const pull = (i: number) => {
    pending.set(
      i,
      iterators[i]!.next().then((result) => ({ i, result })),
    );
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield result.value;
    }
  } finally {
    for (const [i, promise] of pending) {
      // Their in-flight next() may reject once aborted; nobody is waiting for it any more.
      promise.catch(() => undefined);
      void Promise.resolve(iterators[i]!.return?.()).catch(() => undefined);
    }
  }
}
