import { errorText } from '../../shared/errors.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppDeps } from '../../shared/deps.js';
import type { TwilioApi } from '../../twilio/client.js';
import { TwilioApiError, isOptOutErrorCode, publicTwilioErrorText, twilioErrorMessage } from '../../twilio/errors.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import { messageUpdatedEvent } from '../../events/live-events.js';
import { MessageStatus } from '../messages/message.enums.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import { statusCallbackUrl, twilioCredentials } from '../twilio-accounts/credentials.js';
import type { TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import { OutboxSendRepository, type SendContext } from './outbox-send.repository.js';
import { OutboxQueue, type ClaimedJob, type PacingRates } from './outbox.repository.js';

const MAX_CACHED_CLIENTS = 200;

/**
 * Hands queued outbound messages to Twilio. One loop per server instance: claim a batch of due
 * jobs (leased, SKIP LOCKED, so instances share the queue without sending anything twice), send
 * them with bounded concurrency, poll, and wake at once when this instance enqueues.
 *
 * Delivery is at-least-once towards Twilio only in one window: Twilio accepted the message and
 * this process died before committing SENT. Once SENT (or a Twilio SID) is recorded, the job is
 * never sent again, whoever holds it.
 */
export class OutboxDispatcher {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly queue: OutboxQueue;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clients = new Map<string, TwilioApi>();
  /** Per sender, the earliest local time its next send may leave this instance. */
  private readonly senderGates = new Map<string, number>();
  private readonly stopping = new AbortController();
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeRequested = false;
  private wakeUp: (() => void) | null = null;
  private stopped: Promise<void> | null = null;

  constructor(private readonly deps: AppDeps) {
    this.queue = new OutboxQueue(deps.db, this.workerId);
  }

  private get settings() {
    return this.deps.config.dispatcher;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { leaseSeconds } = this.settings;
    if (leaseSeconds * 1000 <= this.deps.config.twilioTimeoutMs) {
      // A send outliving its lease can be claimed and sent again by another instance.
      this.deps.logger.warn(
        { leaseSeconds, twilioTimeoutMs: this.deps.config.twilioTimeoutMs },
        'DISPATCHER_LEASE_SECONDS should exceed TWILIO_TIMEOUT_MS',
      );
    }
    this.deps.outbox.onEnqueued(() => this.wake());
    this.loop = this.run();
    this.deps.logger.info({ workerId: this.workerId, concurrency: this.settings.concurrency }, 'outbox dispatcher started');
  }

  /** Claim now rather than at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /**
   * Stops claiming, lets in-flight sends finish (each bounded by the Twilio timeout), then
   * releases the jobs claimed but not started so other instances take them at once.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (!this.running) return;
      this.running = false;
      this.deps.outbox.onEnqueued(null);
      this.stopping.abort();
      this.wake();
      await this.loop;
      await Promise.allSettled([...this.inFlight]);
      try {
        const released = await this.queue.releaseHeld();
        if (released > 0) this.deps.logger.info({ released }, 'outbox jobs released on shutdown');
      } catch (err) {
        // Their leases expire on their own; another instance picks them up then.
        this.deps.logger.warn({ err }, 'could not release outbox leases on shutdown');
      }
      this.deps.logger.info('outbox dispatcher stopped');
    })();
    return this.stopped;
  }

  private pacingRates(): PacingRates | null {
    const { pacing } = this.deps.config;
    if (!pacing.enabled) return null;
    return {
      mps: {
        [NumberType.LONG_CODE]: pacing.longCodeMps,
        [NumberType.TOLL_FREE]: pacing.tollFreeMps,
        [NumberType.SHORT_CODE]: pacing.shortCodeMps,
      },
      horizonMs: Math.max(1000, 2 * this.settings.pollMs),
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.wakeRequested = false;
      const free = this.settings.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const jobs = await this.queue.claim({ limit: free, leaseSeconds: this.settings.leaseSeconds, pacing: this.pacingRates() });
          for (const job of jobs) this.track(job);
          claimed = jobs.length;
        } catch (err) {
          if (this.running) this.deps.logger.error({ err }, 'outbox claim failed');
        }
      }
      if (!this.running) break;
      // A full batch suggests more is due: go again (the next round waits if all slots are busy).
      if (free > 0 && claimed === free) continue;
      if (!this.wakeRequested) await this.idle(this.settings.pollMs);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private track(job: ClaimedJob): void {
    const work = this.process(job).finally(() => {
      this.inFlight.delete(work);
      // Claim again once half the slots are free: one claim per batch, not per finished send.
      if (this.inFlight.size <= this.settings.concurrency / 2) this.wake();
    });
    this.inFlight.add(work);
  }

  private async process(job: ClaimedJob): Promise<void> {
    const log = this.deps.logger.child({ tenantId: job.tenantId, messageId: job.messageId, jobId: job.id, attempt: job.attempts });
    // The pacing slot, on this machine's clock. Waited for right before the call, after the
    // bookkeeping, so database latency does not bunch paced sends together.
    const sendAt = Date.now() + job.delayMs;
    try {
      const sends = new OutboxSendRepository(this.deps.db, job.tenantId, this.workerId);
      const ctx = await sends.load(job.messageId);
      if (!ctx) {
        await this.queue.complete(job.id);
        return;
      }
      const { message } = ctx;
      // Already handed to Twilio (a crash after Twilio accepted, then a callback) or finished.
      if (message.twilioSid !== null || (message.status !== MessageStatus.QUEUED && message.status !== MessageStatus.SENDING)) {
        await this.queue.complete(job.id);
        return;
      }
      if (ctx.contact.optedOut) {
        await this.fail(job, ctx, null, 'The contact opted out (texted STOP) before the message was sent');
        return;
      }
      if (ctx.phoneNumber.removedAt) {
        await this.fail(job, ctx, null, 'The sending number was removed before the message was sent');
        return;
      }

      const leaseMs = this.settings.leaseSeconds * 1000;
      const plannedWait = Math.max(0, this.plannedTurn(ctx, sendAt) - Date.now());
      const sending = await sends.markSending(job.id, message.id, leaseMs + plannedWait);
      if (!sending.held) {
        log.warn('outbox lease lost before sending; another dispatcher has the job');
        return;
      }
      if (sending.moved) this.published(message);
      const waitFrom = Date.now();
      if (!(await this.waitForTurn(ctx, sendAt))) return; // stopping: stop() releases the job
      // Waited longer than the lease was extended for (other sends of this number went first):
      // make sure the job is still ours before calling.
      if (Date.now() - waitFrom > plannedWait + leaseMs / 2 && !(await sends.markSending(job.id, message.id, leaseMs)).held) {
        log.warn('outbox lease lost while waiting for the pacing slot; another dispatcher has the job');
        return;
      }

      let sid: string;
      try {
        const api = this.client(ctx.account);
        const { phoneNumber } = ctx;
        const result = await api.createMessage({
          to: ctx.contact.phoneNumber,
          ...(phoneNumber.messagingServiceSid ? { messagingServiceSid: phoneNumber.messagingServiceSid } : { from: phoneNumber.e164 }),
          body: message.body,
          mediaUrl: message.media.map((m) => m.url),
          statusCallback: statusCallbackUrl(this.deps.config.publicUrl, ctx.account.webhookKey, message.id),
        });
        sid = result.sid;
      } catch (err) {
        await this.onSendError(job, ctx, err, log);
        return;
      }

      if (await sends.recordSent(job.id, message.id, sid)) this.published(message);
      log.debug({ twilioSid: sid }, 'message sent');
    } catch (err) {
      // Our side failed (database): put the job back with a backoff rather than wait for the lease.
      log.error({ err }, 'outbox job failed');
      await this.queue.reschedule(job.id, this.backoff(job.attempts), errorText(err)).catch(() => {});
    }
  }

  private async onSendError(job: ClaimedJob, ctx: SendContext, err: unknown, log: AppDeps['logger']): Promise<void> {
    const apiError = err instanceof TwilioApiError ? err : null;
    const code = apiError?.code ?? null;
    if (apiError?.transient && job.attempts < this.settings.maxAttempts) {
      // A timeout is ambiguous: Twilio may have taken the message. Waiting long enough for its
      // status callback (which names our message id) to record the SID means the retry finds
      // the message sent and drops the job instead of texting the customer twice.
      const delayMs =
        apiError.kind === 'timeout' ? Math.max(this.settings.ambiguousRetryMs, this.backoff(job.attempts)) : this.backoff(job.attempts);
      log.warn({ code, status: apiError.status, kind: apiError.kind, delayMs }, 'transient Twilio error; will retry');
      await this.queue.reschedule(job.id, delayMs, publicTwilioErrorText(apiError));
      return;
    }
    const text = (code !== null ? twilioErrorMessage(code) : null) ?? (apiError ? publicTwilioErrorText(apiError) : `Could not send: ${errorText(err)}`);
    log.warn({ code, status: apiError?.status ?? null, attempts: job.attempts }, 'message failed');
    await this.fail(job, ctx, code, text, isOptOutErrorCode(code));
  }

  /** FAILED for good: the message records why, the job goes, and a 21610 records the opt-out. */
  private async fail(job: ClaimedJob, ctx: SendContext, code: number | null, text: string, optOut = false): Promise<void> {
    const failed = await this.deps.db.transaction(async (tx) => {
      const row = await new MessagesRepository(tx, job.tenantId).recordFailure(ctx.message.id, code, text);
      if (optOut) await new ContactsRepository(tx, job.tenantId).setOptedOut(ctx.contact.id, true);
      await this.queue.with(tx).complete(job.id);
      return row;
    });
    if (failed) this.published(failed);
  }

  /**
   * Waits until this job may call Twilio: its booked slot, and never closer to this instance's
   * previous call on the same number than that call's segments allow. Slots are booked in the
   * database (shared by instances); the gate, checked and moved at departure, keeps jobs that
   * ran late (slow database, busy event loop) from leaving in a bunch. False when stopping.
   */
  private plannedTurn(ctx: SendContext, slot: number): number {
    return this.pacingRates() ? Math.max(slot, this.senderGates.get(ctx.phoneNumber.id) ?? 0) : slot;
  }

  private async waitForTurn(ctx: SendContext, slot: number): Promise<boolean> {
    const rates = this.pacingRates();
    if (!rates) return this.sleep(slot - Date.now());
    const key = ctx.phoneNumber.id;
    for (;;) {
      const at = Math.max(slot, this.senderGates.get(key) ?? 0);
      const now = Date.now();
      if (at <= now) {
        // Check and move in one synchronous step: no other job of this sender can slip in between.
        this.senderGates.set(key, now + (Math.max(1, ctx.message.segments) * 1000) / rates.mps[ctx.phoneNumber.type]);
        if (this.senderGates.size > 10_000) {
          for (const [sender, gate] of this.senderGates) if (gate < now) this.senderGates.delete(sender);
        }
        return true;
      }
      if (!(await this.sleep(at - now))) return false;
    }
  }

  /** messageUpdated after a committed change; subscribers load the current row. */
  private published(message: { id: string; tenantId: string; conversationId: string }): void {
    this.deps.events.publish(messageUpdatedEvent(message));
  }

  /** backoffBaseMs · 2^(attempt-1), capped, with jitter so retries of a burst do not stay in step. */
  private backoff(attempts: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /**
   * One API client per account (and token/root version), reused across sends: building the SDK
   * client per message costs more than the send's bookkeeping.
   */
  private client(account: TwilioAccountRow): TwilioApi {
    const key = `${account.id}|${account.authTokenSealed}|${account.apiBaseUrl}`;
    let api = this.clients.get(key);
    if (!api) {
      api = this.deps.twilio(twilioCredentials(this.deps.secretBox, account));
      if (this.clients.size >= MAX_CACHED_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      this.clients.set(key, api);
    }
    return api;
  }

  /** Resolves true after ms, false at once when the dispatcher stops. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (ms <= 0) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

