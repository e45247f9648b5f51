import { Counter, Histogram, type Registry } from 'prom-client';
import type { Db } from '../../db/client.js';
import { GroupCommitQueue, rounds, type GroupCommitOptions } from '../../shared/group-commit.js';
import type { Logger } from '../../shared/logger.js';
import { ingestBatch, type BatchOutcome, type IngestItem } from './inbound-batch.repository.js';
import type { IngestResult } from './inbound.repository.js';

/** Group commit of inbound texts (INGEST_BATCH_MAX, _WAIT_MS, _CONCURRENCY). */
export type IngestBatchOptions = GroupCommitOptions;

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
 *   transaction) undoes the whole statement; each of its items is then run alone (the same
 *   statement with one row), so only a bad item fails, and only its own request.
 */
export class IngestBatcher {
  private readonly queue: GroupCommitQueue<Pending>;
  private sizes: Histogram | null = null;
  private fallbacks: Counter | null = null;
  /** Counters for tests and the benchmark (also on /metrics). */
  readonly stats = { batches: 0, items: 0, largest: 0, fallbacks: 0 };

  constructor(
    /** The app's current database handle, read per statement like every other path (deps.db). */
    private readonly database: () => Db,
    private readonly options: IngestBatchOptions,
    private readonly logger: Logger,
  ) {
    this.queue = new GroupCommitQueue<Pending>(options, (batch) => this.run(batch), (err, batch) => {
      this.logger.error({ err }, 'ingest batch failed unexpectedly');
      for (const p of batch) p.reject(err);
    });
  }

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
   * Stores one inbound text (see `ingestBatch` for the rules): the result, or null when `To` is
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
    this.queue.add({ item, resolve, reject, settled });
    return promise;
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
    for (const round of rounds(leaders, (p) => `${p.item.tenantId}\n${p.item.sms.from}`)) await this.runRound(round);
  }

  private async runRound(round: Pending[]): Promise<void> {
    this.stats.batches++;
    this.stats.items += round.length;
    this.stats.largest = Math.max(this.stats.largest, round.length);
    this.sizes?.observe(round.length);
    let outcomes;
    try {
      outcomes = await ingestBatch(
        this.database(),
        round.map((p) => p.item),
      );
    } catch (err) {
      // A lone item's failure is its own (e.g. the unique violation when another instance stored
      // its MessageSid meanwhile, which the caller answers as a retry): nothing to fall back to.
      if (round.length === 1) return void (await this.settle(round[0]!, Promise.reject(err)));
      // A batch's items are each stored by themselves, so one bad row fails only its own request.
      this.stats.fallbacks++;
      this.fallbacks?.inc();
      this.logger.warn({ err, size: round.length }, 'ingest batch failed: storing its texts one by one');
      await Promise.all(round.map((p) => this.settle(p, this.alone(p.item))));
      return;
    }
    await Promise.all(
      round.map((p, i) => {
        const outcome = outcomes[i]!;
        return this.settle(p, outcome.kind === 'retry-alone' ? this.alone(p.item) : answer(outcome));
      }),
    );
  }

  private settle(p: Pending, result: Promise<IngestResult | null>): Promise<void> {
    result.then(p.resolve, p.reject);
    return p.settled;
  }

  /**
   * One item by itself (group commit off, a failed batch's items, a duplicate MessageSid's second
   * item): the same statement with one row, so there is one set of rules. Its error (e.g. the
   * unique violation when another instance stored the MessageSid meanwhile) is the item's own.
   */
  private async alone(item: IngestItem): Promise<IngestResult | null> {
    const [outcome] = await ingestBatch(this.database(), [item]);
    if (outcome!.kind === 'retry-alone') throw new Error('the ingest statement stored nothing for a matched number');
    return answer(outcome!);
  }
}

/** What an item's caller gets for its outcome: the stored result, null (not our number), or AlreadyStored. */
function answer(outcome: Exclude<BatchOutcome, { kind: 'retry-alone' }>): Promise<IngestResult | null> {
  switch (outcome.kind) {
    case 'stored':
      return Promise.resolve(outcome.result);
    case 'not-our-number':
      return Promise.resolve(null);
    case 'duplicate':
      return Promise.reject(new AlreadyStored('inbound message already stored'));
  }
}
