import type { AppDeps } from '../../shared/deps.js';
import { errorText } from '../../shared/errors.js';
import { TwilioApiError } from '../../twilio/errors.js';
import { twilioCredentials } from '../twilio-accounts/credentials.js';
import { TwilioAccountsRepository } from '../twilio-accounts/twilio-accounts.repository.js';
import { claimTwilioDeletions, finishTwilioDeletion, retryTwilioDeletion, type ClaimedTwilioDeletion } from './privacy.repository.js';
import { runRetention } from './retention.js';

const DAY_MS = 86_400_000;
const RETENTION_FIRST_RUN_MS = 60_000;
const POLL_MS = 5_000;
const BATCH = 20;
const LEASE_SECONDS = 120;
/** Twilio refuses to delete a message still being sent; it is retried for about a week. */
const MAX_ATTEMPTS = 40;
const BACKOFF_MAX_MS = 3_600_000;

/**
 * Background work of the privacy features in every instance: DELETE at Twilio the messages
 * queued by erasures and retention (retried with backoff: a message still being sent cannot be
 * deleted yet), and the retention job once a day (and once shortly after start).
 */
export class MaintenanceWorker {
  private timer: NodeJS.Timeout | null = null;
  private retentionFirst: NodeJS.Timeout | null = null;
  private retentionDaily: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wakeAgain = false;

  constructor(private readonly deps: AppDeps) {}

  start(): void {
    this.deps.twilioDeletions.onQueued(() => this.tick());
    this.timer = setInterval(() => this.tick(), POLL_MS);
    this.timer.unref();
    if (this.deps.config.retention.enabled) {
      const retention = () => {
        runRetention(this.deps)
          .then(() => this.tick())
          .catch((err: unknown) => this.deps.logger.error({ err }, 'retention job failed'));
      };
      // Once soon after start, then daily; instances share the work (SKIP LOCKED).
      this.retentionFirst = setTimeout(retention, RETENTION_FIRST_RUN_MS);
      this.retentionFirst.unref();
      this.retentionDaily = setInterval(retention, DAY_MS);
      this.retentionDaily.unref();
    }
  }

  /** Processes due deletions now (coalesced if already running). */
  tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = this.processDeletions()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'Twilio deletions failed'))
      .finally(() => {
        this.running = null;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.tick();
        }
      });
  }

  private async processDeletions(): Promise<void> {
    for (;;) {
      const claimed = await claimTwilioDeletions(this.deps.db, BATCH, LEASE_SECONDS);
      if (claimed.length === 0) return;
      for (const job of claimed) await this.deleteAtTwilio(job);
      if (this.stopped) return;
    }
  }

  private async deleteAtTwilio(job: ClaimedTwilioDeletion) {
    // Disconnected accounts too: their credentials may still work at Twilio.
    const account = await new TwilioAccountsRepository(this.deps.db, job.tenantId).findIncludingDisconnected(job.twilioAccountId);
    let done = !account; // the account is gone: nothing left to ask
    let error: string | null = null;
    if (account) {
      try {
        await this.deps.twilio(twilioCredentials(this.deps.secretBox, account)).deleteMessage(job.messageSid);
        done = true;
      } catch (err) {
        // Already gone at Twilio is what we wanted.
        if (err instanceof TwilioApiError && err.status === 404) done = true;
        else error = errorText(err).slice(0, 500);
      }
    }
    if (done || job.attempts >= MAX_ATTEMPTS) {
      if (!done) this.deps.logger.error({ tenantId: job.tenantId, messageSid: job.messageSid, error }, 'gave up deleting a message at Twilio');
      await finishTwilioDeletion(this.deps.db, job.id);
      return;
    }
    const delayMs = Math.min(BACKOFF_MAX_MS, 10_000 * 2 ** Math.min(job.attempts - 1, 20));
    await retryTwilioDeletion(this.deps.db, job.id, error, delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.twilioDeletions.onQueued(null);
    if (this.timer) clearInterval(this.timer);
    if (this.retentionFirst) clearTimeout(this.retentionFirst);
    if (this.retentionDaily) clearInterval(this.retentionDaily);
    await this.running;
  }
}
