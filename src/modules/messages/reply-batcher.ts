import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../shared/ids.js';
import { GroupCommitQueue, rounds, type GroupCommitOptions } from '../../shared/group-commit.js';
import type { Logger } from '../../shared/logger.js';
import { MessagesRepository, type ReplyOutcome } from './messages.repository.js';
import { sendReplies, type ReplyItem } from './reply-batch.repository.js';

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
 *   its replies is then written alone by the single-reply statement, so only a bad reply fails,
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

  /** Like MessagesRepository.sendReply (the item's values must carry no idempotency key). */
  send(item: Omit<ReplyItem, 'messageId'>): Promise<ReplyOutcome> {
    if (this.options.max <= 1 || item.values.idempotencyKey !== null || !isUuid(item.values.conversationId)) return this.alone(item);
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
    if (round.length === 1) {
      await this.settle(round[0]!, this.alone(round[0]!.item));
      return;
    }
    let outcomes: ReplyOutcome[];
    try {
      outcomes = await sendReplies(
        this.database(),
        round.map((p) => ({ ...p.item, messageId: randomUUID() })),
        this.enqueueSql,
      );
    } catch (err) {
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

  /** The single-reply statement (group commit off, a key, a batch's fallback, a lone reply). */
  private alone(item: Omit<ReplyItem, 'messageId'>): Promise<ReplyOutcome> {
    return new MessagesRepository(this.database(), item.tenantId).sendReply(item.values, item.viewer, this.enqueueSql);
  }
}
