/**
 * Group commit's gathering, shared by the ingest of inbound texts and agents' replies: items are
 * gathered for at most `waitMs` (or until `max` wait, or, while `concurrency` batches are in
 * flight, until one ends) and handed to `run` as one batch. So batches grow with the load, and a
 * lone item at rest waits only `waitMs`. What a batch does with its items (one statement, rounds,
 * fallbacks) is the caller's.
 */
export interface GroupCommitOptions {
  /** Most items per batch; 1 turns group commit off (the caller then writes each item alone). */
  max: number;
  /** How long the first item of a batch waits for others (ms); 0: those of the same event-loop turn. */
  waitMs: number;
  /** Batches in flight at once; while all are busy, arriving items gather for the next one. */
  concurrency: number;
}

export class GroupCommitQueue<P> {
  private queue: P[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The oldest queued item has waited long enough (or a batch is full): go at the next free slot. */
  private due = false;
  private inFlight = 0;

  constructor(
    private readonly options: GroupCommitOptions,
    /** Writes one batch; must settle every item of it, whatever happens. */
    private readonly run: (batch: P[]) => Promise<void>,
    /** `run` threw (not expected: its errors are handled per item): never leave an item hanging. */
    private readonly failed: (err: unknown, batch: P[]) => void,
  ) {}

  add(item: P): void {
    this.queue.push(item);
    if (this.queue.length >= this.options.max) {
      this.due = true;
      this.pump();
    } else if (!this.due && this.timer === null) {
      const expire = () => {
        this.timer = null;
        this.due = true;
        this.pump();
      };
      this.timer = this.options.waitMs > 0 ? setTimeout(expire, this.options.waitMs) : setImmediate(expire);
    }
  }

  /** Starts batches while some are due and a slot is free. */
  private pump(): void {
    while (this.due && this.queue.length > 0 && this.inFlight < this.options.concurrency) {
      const batch = this.queue.splice(0, this.options.max);
      this.inFlight++;
      void this.run(batch)
        .catch((err: unknown) => this.failed(err, batch))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
    if (this.queue.length === 0) {
      this.due = false;
      if (this.timer !== null) {
        clearTimeout(this.timer as NodeJS.Timeout);
        clearImmediate(this.timer as NodeJS.Immediate);
        this.timer = null;
      }
    }
  }
}

/**
 * Splits a batch into successive statements: the n-th item with a given key goes to the n-th
 * round (a statement touches each row once; later items of a key are written after earlier ones).
 */
export function rounds<P>(items: readonly P[], key: (item: P) => string): P[][] {
  const out: P[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(item);
  }
  return out;
}
