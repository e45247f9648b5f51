/**
 * Maps a subscription's event stream to rows, skipping events whose row is gone.
 *
 * Not an async generator on purpose: a generator blocked in `await source.next()` cannot be
 * returned until an event arrives, so an unsubscribing client would leave its subscriber
 * registered on the bus. `return()` here goes straight to the source, which ends the pending
 * `next()` at once.
 */
export class HydratingIterator<E, T> implements AsyncIterableIterator<T> {
  constructor(
    private readonly source: AsyncIterator<E>,
    private readonly load: (event: E) => Promise<T | null>,
  ) {}

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      const result = await this.source.next();
      if (result.done) return { value: undefined, done: true };
      const row = await this.load(result.value);
      if (row !== null) return { value: row, done: false };
    }
  }

  async return(): Promise<IteratorResult<T>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<T>> {
    await this.source.return?.();
    throw err;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
