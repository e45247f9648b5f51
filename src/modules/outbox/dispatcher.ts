import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppDeps } from '../../shared/deps.js';
import { MessageStatus } from '../messages/message.enums.js';
import { OutboxBatchRepository, type SendContext } from './outbox-send.repository.js';
import { OutboxQueue, type ClaimedJob } from './outbox.repository.js';
import { SenderPacer } from './pacing.js';
import { SendResults } from './send-results.js';
import { TwilioSender } from './twilio-sender.js';
import { WakeableIdle } from '../../shared/wakeable-idle.js';

/** How long a wake waits for more enqueued jobs before claiming (see idle). */
const WAKE_GATHER_MS = 2;

/** A claimed job ready to go: its lease extended, its message SENDING. */
interface HeldJob {
  ctx: SendContext;
  /** The pacing slot, on this machine's clock. */
  sendAt: number;
  /** How much longer than the lease the job may wait for its turn, as planned at mark time. */
  plannedWait: number;
}

/**
 * Hands queued outbound messages to Twilio. One loop per server instance: claim a batch of due
 * jobs (one statement; leased, SKIP LOCKED, so instances share the queue without sending anything
 * twice), prepare the batch (one statement to load it, one to extend the leases and mark the
 * messages SENDING), send its messages concurrently, each at its sender's pace, and record the
 * results in groups (one statement per group). Poll, and wake at once when this instance enqueues.
 *
 * The parts: OutboxQueue (claiming, leases), OutboxBatchRepository (the batch's statements),
 * SenderPacer (pacing), TwilioSender (the Twilio call), SendResults (SENT, retries, failures).
 *
 * Once SENT (or a Twilio SID) is recorded, the job is never sent again, whoever holds it. An
 * attempt whose outcome is unknown (it timed out, the connection broke, or its process died after
 * Twilio accepted and before SENT was committed) leaves its job `maybe_sent`; the next attempt
 * first looks for the message in Twilio's Messages list (TwilioSender.findEarlier) and records the
 * copy it finds instead of texting the customer twice.
 */
export class OutboxDispatcher {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly queue: OutboxQueue;
  private readonly batches: OutboxBatchRepository;
  private readonly pacer: SenderPacer;
  private readonly sender: TwilioSender;
  private readonly results: SendResults;
  /** One promise per claimed job until it is settled (sent and recorded, rescheduled, failed, or dropped). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Whether the last claim found jobs (see notifyDrained in run()). */
  private claimedLastRound = false;
  /**
   * Claimed jobs that were maybe_sent before this instance touched them (an earlier attempt may
   * have reached Twilio): released at shutdown, they keep the flag, so whoever takes them next
   * still looks before sending. The flag this instance set itself is cleared (it never called).
   */
  private readonly claimedMaybeSent = new Set<number>();
  private readonly stopping = new AbortController();
  private running = false;
  private loop: Promise<void> | null = null;
  /**
   * A wake claims after WAKE_GATHER_MS rather than at once: the commits of concurrent sends that
   * arrive meanwhile join the same claim, so a burst of mutations makes a few batches instead of
   * one claim (and one load, one mark) per message.
   */
  private readonly idle = new WakeableIdle(WAKE_GATHER_MS);
  private stopped: Promise<void> | null = null;

  constructor(private readonly deps: AppDeps) {
    this.queue = new OutboxQueue(deps.db, this.workerId);
    this.batches = new OutboxBatchRepository(deps.db, this.workerId);
    this.pacer = new SenderPacer(() => this.deps.config, this.stopping.signal);
    this.sender = new TwilioSender(deps);
    this.results = new SendResults(deps, this.queue, this.batches);
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
    this.idle.wake();
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
        const released = await this.queue.releaseHeld([...this.claimedMaybeSent]);
        if (released > 0) this.deps.logger.info({ released }, 'outbox jobs released on shutdown');
      } catch (err) {
        // Their leases expire on their own; another instance picks them up then.
        this.deps.logger.warn({ err }, 'could not release outbox leases on shutdown');
      }
      this.deps.logger.info('outbox dispatcher stopped');
    })();
    return this.stopped;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.idle.beginRound();
      const free = this.settings.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const jobs = await this.queue.claim({ limit: free, leaseSeconds: this.settings.leaseSeconds, pacing: this.pacer.rates() });
          if (jobs.length > 0) this.dispatch(jobs);
          claimed = jobs.length;
          // Fewer than asked for, by this claim or after one that found work: nothing more is
          // due. Said when the queue empties, not on every idle poll.
          if (claimed < free && (claimed > 0 || this.claimedLastRound)) this.deps.outbox.notifyDrained();
          this.claimedLastRound = claimed > 0;
        } catch (err) {
          if (this.running) this.deps.logger.error({ err }, 'outbox claim failed');
        }
      }
      if (!this.running) break;
      // A full batch suggests more is due: go again (the next round waits if all slots are busy).
      if (free > 0 && claimed === free) continue;
      await this.idle.idle(this.settings.pollMs, () => !this.running);
    }
  }

  /** Prepares the batch once, then each job goes on its own (its own pace, its own Twilio call). */
  private dispatch(jobs: ClaimedJob[]): void {
    // The pacing slots, on this machine's clock, from the claim's answer. Waited for right before
    // each call, after the bookkeeping, so database latency does not bunch paced sends together.
    const claimedAt = Date.now();
    const prepared = this.prepare(jobs, claimedAt);
    for (const job of jobs) {
      if (job.maybeSent) this.claimedMaybeSent.add(job.id);
      const work = this.sendOne(job, prepared).finally(() => {
        this.inFlight.delete(work);
        // While stopping, a job that gave up waiting for its turn is still held: stop() needs its entry.
        if (this.running) this.claimedMaybeSent.delete(job.id);
        // Claim again once half the slots are free: one claim per batch, not per finished send.
        if (this.inFlight.size <= this.settings.concurrency / 2) this.wake();
      });
      this.inFlight.add(work);
    }
  }

  /**
   * The batch's bookkeeping before any call: one statement loads every message with its contact,
   * number and account; jobs with nothing to send are dropped or failed; one statement extends
   * the others' leases (by their pacing wait too) and moves their messages to SENDING. Answers
   * the jobs still ours, ready to send.
   */
  private async prepare(jobs: ClaimedJob[], claimedAt: number): Promise<Map<number, HeldJob>> {
    const held = new Map<number, HeldJob>();
    let contexts: Map<string, SendContext>;
    try {
      contexts = await this.batches.load(jobs);
    } catch (err) {
      await this.giveBack(jobs, err);
      return held;
    }
    const leaseMs = this.settings.leaseSeconds * 1000;
    const ready: Array<{ job: ClaimedJob; hold: HeldJob }> = [];
    const settling: Array<Promise<void>> = [];
    for (const job of jobs) {
      const ctx = contexts.get(job.messageId);
      const refused = ctx ? whyNotSend(ctx) : null;
      if (!ctx || refused === 'done') {
        // Gone, already handed to Twilio (a crash after Twilio accepted, then a callback), or finished.
        settling.push(this.settle(job, () => this.results.complete(job)));
      } else if (refused) {
        settling.push(this.settle(job, () => this.results.fail(job, ctx, null, refused)));
      } else {
        const sendAt = claimedAt + job.delayMs;
        const plannedWait = Math.max(0, this.pacer.plannedTurn(pacedSend(ctx), sendAt) - Date.now());
        ready.push({ job, hold: { ctx, sendAt, plannedWait } });
      }
    }
    if (ready.length > 0) {
      try {
        const marked = await this.batches.markSending(
          ready.map(({ job, hold }) => ({ id: job.id, tenantId: job.tenantId, messageId: job.messageId, holdMs: leaseMs + hold.plannedWait })),
        );
        const moved: SendContext['message'][] = [];
        for (const { job, hold } of ready) {
          const mark = marked.get(job.id);
          if (!mark) {
            this.log(job).warn('outbox lease lost before sending; another dispatcher has the job');
            continue;
          }
          if (mark.moved) moved.push(hold.ctx.message);
          held.set(job.id, hold);
        }
        this.results.published(...moved);
      } catch (err) {
        await this.giveBack(
          ready.map((r) => r.job),
          err,
        );
      }
    }
    await Promise.all(settling);
    return held;
  }

  /** One job, once its batch is prepared: wait for its turn, call Twilio, record the outcome. */
  private async sendOne(job: ClaimedJob, prepared: Promise<Map<number, HeldJob>>): Promise<void> {
    const hold = (await prepared).get(job.id);
    if (!hold) return; // settled during preparation, or not ours any more
    const { ctx, sendAt, plannedWait } = hold;
    // Built only when something is logged: most sends log nothing.
    const log = () => this.log(job);
    try {
      const leaseMs = this.settings.leaseSeconds * 1000;
      const waitFrom = Date.now();
      if (!(await this.pacer.waitForTurn(pacedSend(ctx), sendAt))) return; // stopping: stop() releases the job
      // Waited longer than the lease was extended for (other sends of this number went first):
      // make sure the job is still ours before calling.
      if (Date.now() - waitFrom > plannedWait + leaseMs / 2) {
        const still = await this.batches.markSending([{ id: job.id, tenantId: job.tenantId, messageId: job.messageId, holdMs: leaseMs }]);
        if (!still.has(job.id)) {
          log().warn('outbox lease lost while waiting for the pacing slot; another dispatcher has the job');
          return;
        }
      }

      let sid: string;
      let earlier: string | null = null;
      let lookingUp = job.maybeSent;
      try {
        if (lookingUp) earlier = await this.sender.findEarlier(ctx);
        lookingUp = false;
        sid = earlier ?? (await this.sender.send(ctx));
      } catch (err) {
        // A failed look-up leaves the job maybe_sent: the retry looks again before sending.
        await this.results.sendFailed(job, ctx, err, log(), lookingUp);
        return;
      }
      if (earlier) log().info({ twilioSid: earlier }, 'an earlier attempt reached Twilio: its SID recorded, the message not sent again');
      await this.results.sent(job, ctx.message, sid);
      if (this.deps.logger.isLevelEnabled('debug')) log().debug({ twilioSid: sid }, 'message sent');
    } catch (err) {
      // Our side failed (database): put the job back with a backoff rather than wait for the lease.
      log().error({ err }, 'outbox job failed');
      await this.results.retryLater(job, err);
    }
  }

  /** A job settled without a send; a database failure puts it back with a backoff. */
  private async settle(job: ClaimedJob, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.log(job).error({ err }, 'outbox job failed');
      await this.results.retryLater(job, err);
    }
  }

  private async giveBack(jobs: ClaimedJob[], err: unknown): Promise<void> {
    this.deps.logger.error({ err, jobs: jobs.length }, 'outbox batch failed');
    await Promise.all(jobs.map((job) => this.results.retryLater(job, err)));
  }

  private log(job: ClaimedJob) {
    return this.deps.logger.child({ tenantId: job.tenantId, messageId: job.messageId, jobId: job.id, attempt: job.attempts });
  }
}

/** Why a loaded job must not be sent: 'done' (nothing left to send), a failure text, or null (send it). */
function whyNotSend(ctx: SendContext): 'done' | string | null {
  const { message } = ctx;
  if (message.twilioSid !== null || (message.status !== MessageStatus.QUEUED && message.status !== MessageStatus.SENDING)) return 'done';
  if (ctx.contact.optedOut) return 'The contact opted out (texted STOP) before the message was sent';
  if (ctx.account.disconnectedAt) return 'The Twilio account was disconnected before the message was sent';
  if (ctx.phoneNumber.removedAt) return 'The sending number was removed before the message was sent';
  return null;
}

function pacedSend(ctx: SendContext) {
  return { phoneNumberId: ctx.phoneNumber.id, numberType: ctx.phoneNumber.type, segments: ctx.message.segments };
}
