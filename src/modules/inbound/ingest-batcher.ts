import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../shared/logger.js';
import { ingestBatch, type IngestItem } from './inbound-batch.repository.js';
import { InboundRepository, type IngestResult } from './inbound.repository.js';

export interface IngestBatchOptions {
  /** Most webhooks per statement; 1 turns group commit off (one statement per webhook). */
  max: number;
  /** How long the first webhook of a batch waits for others (ms); 0: those of the same event-loop turn. */
  waitMs: number;
  /**
   * Batch statements in flight at once; while all are busy, arriving webhooks gather for the
   * next one (so batches grow with the load, and a lone webhook at rest waits only `waitMs`).
   */
  concurrency: number;
}

/** The message's (account, MessageSid) is already stored: the webhook is a retry, answered 200. */
export class AlreadyStored extends Error {
  override name = 'AlreadyStored';
}

interface Pending {
  item: IngestItem;
  resolve: (result: IngestResult | null) => void;
  reject: (err: unknown) => void;
  /** Settles (never rejects) once this item is answered. */
  settled: Promise<void>;
}

/**
 * Group commit of inbound texts. Concurrent webhooks are gathered for at most `waitMs` (or until
 * `max` wait, or, when `concurrency` batches are already in flight, until one ends) and stored by ONE statement (`ingestBatch`: contacts, conversations, messages, media
 * jobs of every item), then each caller gets its own result, after that commit; the inbound
 * service does the rest per message as before (live events, routing, automations, logs).
 *
 * - Two items of one batch for the same contact (tenant, From) go to successive statements
 *   ("rounds", in arrival order): a statement touches each contact and conversation row once.
 * - Two items with the same (account, MessageSid) (a Twilio retry racing its original): the
 *   second runs alone once the first settled, and learns it is a duplicate as a retry would.
 * - Any failure of a batch statement (a bad row, a deadlock, a sid stored meanwhile by another
 *   transaction) undoes the whole statement; each of its items is then run alone by the
 *   single-row statement, so only a bad item fails, and only its own request.
 */
export class IngestBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The oldest queued webhook has waited long enough (or a batch is full): go at the next free slot. */
  private due = false;
  private inFlight = 0;
  private sizes: Histogram | null = null;
  private fallbacks: Counter | null = null;
  /** Counters for tests and the benchmark (also on /metrics). */
  readonly stats = { batches: 0, items: 0, largest: 0, fallbacks: 0 };

  constructor(
    /** The app's current database handle, read per statement like every other path (deps.db). */
    private readonly database: () => Db,
    private readonly options: IngestBatchOptions,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.options.max > 1;
  }

  /** `inbound_batch_size` (webhooks per statement) and `inbound_batch_fallbacks_total` on this app's /metrics. */
  registerMetrics(registry: Registry): void {
    this.sizes = new Histogram({
      name: 'inbound_batch_size',
      help: 'Inbound texts stored per ingest statement (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
    this.fallbacks = new Counter({
      name: 'inbound_batch_fallbacks_total',
      help: 'Ingest batches undone by an error whose items were then stored one by one',
      registers: [registry],
    });
  }

  /**
   * Stores one inbound text like `InboundRepository.ingest`: the result, or null when `To` is
   * not an active INBOUND_OUTBOUND number of the account (nothing written). Throws AlreadyStored
   * (or the unique violation on messages_account_sid_uq) for a retry; any other error is this
   * item's own.
   */
  ingest(item: IngestItem): Promise<IngestResult | null> {
    if (!this.enabled) return this.alone(item);
    let resolve!: Pending['resolve'];
    let reject!: Pending['reject'];
    const promise = new Promise<IngestResult | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const settled = promise.then(
      () => {},
      () => {},
    );
    this.queue.push({ item, resolve, reject, settled });
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
    return promise;
  }

  /** Starts batches while some are due and a slot is free. */
  private pump(): void {
    while (this.due && this.queue.length > 0 && this.inFlight < this.options.concurrency) {
      const batch = this.queue.splice(0, this.options.max);
      this.inFlight++;
      void this.run(batch)
        .catch((err: unknown) => {
          // Not expected (every statement error is handled per item): never leave a request hanging.
          this.logger.error({ err }, 'ingest batch failed unexpectedly');
          for (const p of batch) p.reject(err);
        })
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

  private async run(batch: Pending[]): Promise<void> {
    // Same (account, MessageSid) as an earlier item: alone, after that one.
    const first = new Map<string, Pending>();
    const leaders: Pending[] = [];
    for (const p of batch) {
      const key = `${p.item.accountId}\n${p.item.sms.messageSid}`;
      const earlier = first.get(key);
      if (earlier) {
        const after = earlier.settled;
        first.set(key, p);
        void after.then(() => this.settle(p, this.alone(p.item)));
      } else {
        first.set(key, p);
        leaders.push(p);
      }
    }
    // Rounds: the n-th item of a contact goes to the n-th statement.
    const rounds: Pending[][] = [];
    const seen = new Map<string, number>();
    for (const p of leaders) {
      const key = `${p.item.tenantId}\n${p.item.sms.from}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      (rounds[n] ??= []).push(p);
    }
    for (const round of rounds) await this.runRound(round);
  }

  private async runRound(round: Pending[]): Promise<void> {
    this.stats.batches++;
    this.stats.items += round.length;
    this.stats.largest = Math.max(this.stats.largest, round.length);
    this.sizes?.observe(round.length);
    if (round.length === 1) {
      await this.settle(round[0]!, this.alone(round[0]!.item));
      return;
    }
    let outcomes;
    try {
      outcomes = await ingestBatch(
        this.database(),
        round.map((p) => p.item),
      );
    } catch (err) {
      this.stats.fallbacks++;
      this.fallbacks?.inc();
      this.logger.warn({ err, size: round.length }, 'ingest batch failed: storing its texts one by one');
      await Promise.all(round.map((p) => this.settle(p, this.alone(p.item))));
      return;
    }
    await Promise.all(
      round.map((p, i) => {
        const outcome = outcomes[i]!;
        switch (outcome.kind) {
          case 'stored':
            p.resolve(outcome.result);
            return p.settled;
          case 'duplicate':
            p.reject(new AlreadyStored('inbound message already stored'));
            return p.settled;
          case 'not-our-number':
            p.resolve(null);
            return p.settled;
          case 'retry-alone':
            return this.settle(p, this.alone(p.item));
        }
      }),
    );
  }

  private settle(p: Pending, result: Promise<IngestResult | null>): Promise<void> {
    result.then(p.resolve, p.reject);
    return p.settled;
  }

  /** The single-row statement (group commit off, a batch's fallback, a lone item). */
  private alone(item: IngestItem): Promise<IngestResult | null> {
    return new InboundRepository(this.database(), item.tenantId, item.accountId).ingest(item.messageId, item.sms, item.copyMedia);
  }
}
