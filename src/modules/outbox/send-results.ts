import { messageUpdatedEvent } from '../../events/live-events.js';
import type { AppDeps } from '../../shared/deps.js';
import { errorText } from '../../shared/errors.js';
import { TwilioApiError, isOptOutErrorCode, publicTwilioErrorText, twilioErrorMessage } from '../../twilio/errors.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { recordWebhookEvents } from '../webhook-events/webhook-events.sql.js';
import type { OutboxBatchRepository, SendContext, SentResult } from './outbox-send.repository.js';
import type { ClaimedJob, OutboxQueue } from './outbox.repository.js';

type Logger = AppDeps['logger'];
type MessageRef = { id: string; tenantId: string; conversationId: string };

interface PendingSent {
  result: SentResult;
  message: MessageRef;
  done: (err?: unknown) => void;
}

/**
 * What happens after a send (or instead of one): SENT recorded, a retry with backoff, or FAILED
 * for good (with the opt-out a 21610 means). The retry policy lives here.
 *
 * SENT results are recorded in groups: a result waits while the previous group's statement runs,
 * then every result that arrived meanwhile is written by one statement (group commit). Nobody
 * waits for a timer, and under load a statement carries many sends.
 */
export class SendResults {
  private pending: PendingSent[] = [];
  private flushing = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly queue: OutboxQueue,
    private readonly batches: OutboxBatchRepository,
  ) {}

  private get settings() {
    return this.deps.config.dispatcher;
  }

  /** Twilio accepted the message: resolves once SENT (and the job's removal) is committed. */
  sent(job: ClaimedJob, message: MessageRef, twilioSid: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({
        result: { id: job.id, tenantId: job.tenantId, messageId: message.id, twilioSid },
        message,
        done: (err) => (err === undefined ? resolve() : reject(err)),
      });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        try {
          const updated = await this.batches.recordSent(group.map((p) => p.result));
          const events = group.filter((p) => updated.has(p.message.id)).map((p) => messageUpdatedEvent(p.message));
          if (events.length > 0) this.deps.events.publish(...events);
          for (const p of group) p.done();
        } catch (err) {
          for (const p of group) p.done(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Twilio refused or could not be reached: a retry later when that may help, FAILED otherwise.
   * `lookingUp`: the error came from looking for an earlier attempt, whose outcome stays unknown.
   */
  async sendFailed(job: ClaimedJob, ctx: SendContext, err: unknown, log: Logger, lookingUp = false): Promise<void> {
    const apiError = err instanceof TwilioApiError ? err : null;
    const code = apiError?.code ?? null;
    if (apiError?.transient && job.attempts < this.settings.maxAttempts) {
      // A timeout is ambiguous: Twilio may have taken the message. Waiting long enough for its
      // status callback (which names our message id) to record the SID means the retry finds
      // the message sent and drops the job instead of texting the customer twice.
      const delayMs =
        apiError.kind === 'timeout' ? Math.max(this.settings.ambiguousRetryMs, this.backoff(job.attempts)) : this.backoff(job.attempts);
      log.warn({ code, status: apiError.status, kind: apiError.kind, delayMs }, 'transient Twilio error; will retry');
      // Twilio answered this POST with an error: it took nothing, the retry need not look first.
      const notTaken = !lookingUp && apiError.kind === 'api';
      await this.queue.reschedule(job.id, delayMs, publicTwilioErrorText(apiError), notTaken);
      return;
    }
    const text = (code !== null ? twilioErrorMessage(code) : null) ?? (apiError ? publicTwilioErrorText(apiError) : `Could not send: ${errorText(err)}`);
    log.warn({ code, status: apiError?.status ?? null, attempts: job.attempts }, 'message failed');
    await this.fail(job, ctx, code, text, isOptOutErrorCode(code));
  }

  /** FAILED for good: the message records why, the job goes, and a 21610 records the opt-out. */
  async fail(job: ClaimedJob, ctx: SendContext, code: number | null, text: string, optOut = false): Promise<void> {
    const failed = await this.deps.db.transaction(async (tx) => {
      const row = await new MessagesRepository(tx, job.tenantId).recordFailure(ctx.message.id, code, text);
      if (row) await recordWebhookEvents(tx, job.tenantId, [{ type: 'MESSAGE_STATUS_CHANGED', subjectId: row.id, conversationId: row.conversationId }]);
      if (optOut) await new ContactsRepository(tx, job.tenantId).setOptedOut(ctx.contact.id, true);
      await this.queue.with(tx).complete(job.id);
      return row;
    });
    if (failed) this.published(failed);
  }

  /** Nothing (more) to send: the job goes. */
  complete(job: ClaimedJob): Promise<void> {
    return this.queue.complete(job.id);
  }

  /** Our side failed (database): the job back in the queue with a backoff rather than after its lease. */
  async retryLater(job: ClaimedJob, err: unknown): Promise<void> {
    await this.queue.reschedule(job.id, this.backoff(job.attempts), errorText(err)).catch(() => {});
  }

  /** messageUpdated after a committed change; subscribers load the current row. */
  published(...changed: MessageRef[]): void {
    if (changed.length > 0) this.deps.events.publish(...changed.map((m) => messageUpdatedEvent(m)));
  }

  /** backoffBaseMs · 2^(attempt-1), capped, with jitter so retries of a burst do not stay in step. */
  backoff(attempts: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
