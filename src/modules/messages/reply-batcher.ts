import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { GroupCommitQueue, rounds, type GroupCommitOptions } from '../../shared/group-commit.js';
import type { Logger } from '../../shared/logger.js';
import { sendReplies, type ReplyItem, type ReplyOutcome } from './reply-batch.repository.js';

/** Group commit of agents' replies (REPLY_BATCH_MAX, _WAIT_MS, _CONCURRENCY). */
export type ReplyBatchOptions = GroupCommitOptions;

interface Pending {
  item: Omit<ReplyItem, 'messageId'>;
  resolve: (outcome: ReplyOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of agents' replies (sendMessage without an idempotency key), the way IngestBatcher
 * group-commits inbound texts: concurrent replies are gathered for at most `waitMs` (or until
 * `max` wait, or, while `concurrency` batches are in flight, until one ends) and written by ONE
 * statement (`sendReplies`), then each caller gets its own outcome, after that commit.
 *
 * - Two replies in one conversation go to successive statements ("rounds", in arrival order):
 *   a statement updates each conversation once, and the second reply must be written after the
 *   first (its own created_at, so the thread keeps their order).
 * - Any failure of a batch statement (a bad row, a deadlock) undoes the whole statement; each of
 *   its replies is then written alone (the same statement, one row), so only a bad reply fails,
 *   and only its own request.
 */
export class ReplyBatcher {
  private readonly queue: GroupCommitQueue<Pending>;
  /** Counters for tests and the benchmark. */
  readonly stats = { batches: 0, items: 0, largest: 0, fallbacks: 0 };

  constructor(
    /** The app's current database handle, read per statement (deps.db). */
    private readonly database: () => Db,
    private readonly options: ReplyBatchOptions,
    /** The outbox's INSERT of the jobs (OutboxPort.enqueueSql). */
    private readonly enqueueSql: (rows: SQL) => SQL,
    private readonly logger: Logger,
  ) {
    this.queue = new GroupCommitQueue<Pending>(options, (batch) => this.run(batch), (err, batch) => {
      this.logger.error({ err }, 'reply batch failed unexpectedly');
      for (const p of batch) p.reject(err);
    });
  }

  /** One sendMessage's writes (sendReplies); a reply with an idempotency key is written alone. */
  send(item: Omit<ReplyItem, 'messageId'>): Promise<ReplyOutcome> {
    if (this.options.max <= 1 || item.values.idempotencyKey !== null) return this.alone(item);
    return new Promise<ReplyOutcome>((resolve, reject) => this.queue.add({ item, resolve, reject }));
  }

  private async run(batch: Pending[]): Promise<void> {
    // Rounds: the n-th reply of a conversation goes to the n-th statement.
    for (const round of rounds(batch, (p) => `${p.item.tenantId}\n${p.item.values.conversationId}`)) await this.runRound(round);
  }

  private async runRound(round: Pending[]): Promise<void> {
    this.stats.batches++;
    this.stats.items += round.length;
    this.stats.largest = Math.max(this.stats.largest, round.length);
    let outcomes: ReplyOutcome[];
    try {
      outcomes = await sendReplies(
        this.database(),
        round.map((p) => ({ ...p.item, messageId: randomUUID() })),
        this.enqueueSql,
      );
    } catch (err) {
      // A lone reply's failure is its own.
      if (round.length === 1) {
        round[0]!.reject(err);
        return;
      }
      this.stats.fallbacks++;
      this.logger.warn({ err, size: round.length }, 'reply batch failed: writing its replies one by one');
      await Promise.all(round.map((p) => this.settle(p, this.alone(p.item))));
      return;
    }
    round.forEach((p, i) => p.resolve(outcomes[i]!));
  }

  private settle(p: Pending, outcome: Promise<ReplyOutcome>): Promise<void> {
    return outcome.then(p.resolve, p.reject);
  }

  /** One reply by itself (group commit off, a key, a batch's fallback): the same statement, one row. */
  private async alone(item: Omit<ReplyItem, 'messageId'>): Promise<ReplyOutcome> {
    const [outcome] = await sendReplies(this.database(), [{ ...item, messageId: randomUUID() }], this.enqueueSql);
    return outcome!;
  }
}
