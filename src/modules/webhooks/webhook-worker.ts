import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { AppDeps } from '../../shared/deps.js';
import { errorText } from '../../shared/errors.js';
import { CONVERT_BATCH, convertWebhookEvents, wakeOnWebhookEvents } from './webhook-events-converter.js';
import { assertSafeWebhookUrl, guardedLookup } from './url-guard.js';
import { openSigningSecret } from './webhooks.service.js';
import { claimDueDeliveries, markDelivered, markFailed, type ClaimedDelivery } from './webhook-queue.repository.js';
import { WakeableIdle } from '../../shared/wakeable-idle.js';

const MAX_ERROR_TEXT = 500;

/**
 * Turns committed webhook events (webhook_events, written with each change) into deliveries, then
 * delivers them: claims due deliveries (leased, SKIP LOCKED: instances share
 * the queue), only the oldest pending one of each (endpoint, conversation) so a conversation's
 * events arrive in order, POSTs them with Standard Webhooks headers within WEBHOOK_TIMEOUT_MS,
 * and records the outcome. Non-2xx or no answer: retried with exponential backoff until the
 * delivery is WEBHOOK_RETRY_WINDOW_SECONDS old (then FAILED); an endpoint whose every attempt
 * failed for that long is disabled. Runs beside ingest and the outbox, never on their path.
 */
export class WebhookWorker {
  readonly workerId = `${hostname()}:${process.pid}:wh:${randomUUID().slice(0, 8)}`;
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly idle = new WakeableIdle();
  /**
   * Whether webhook_events may hold rows for this worker: at start, after a change of this
   * instance that may have written some, and at every poll (other instances' changes, rows left
   * by a crash). A delivery finishing wakes the loop without it: no empty conversion per delivery.
   */
  private eventsDue = true;

  constructor(private readonly deps: AppDeps) {
    const { allowPrivate } = deps.config.webhooks;
    this.agent = new Agent({ connect: { lookup: guardedLookup(allowPrivate) as never }, connections: 16 });
    wakeOnWebhookEvents(deps, () => {
      this.eventsDue = true;
      this.wake();
    });
  }

  private get settings() {
    return this.deps.config.webhooks;
  }

  start(): void {
    this.deps.webhookEndpointCache.start();
    if (this.running || !this.settings.deliveryEnabled) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.idle.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.eventsDue) {
        this.eventsDue = false;
        try {
          await this.convert();
        } catch (err) {
          if (!this.running) break;
          this.eventsDue = true;
          this.deps.logger.error({ err }, 'could not turn webhook events into deliveries');
        }
      }
      try {
        const free = this.settings.concurrency - this.inFlight.size;
        const claimed = free > 0 ? await this.claim(free) : [];
        for (const delivery of claimed) {
          const task = this.deliver(delivery)
            .catch((err: unknown) => this.deps.logger.error({ err, deliveryId: delivery.id }, 'webhook delivery crashed'))
            .finally(() => {
              this.inFlight.delete(task);
              this.wake();
            });
          this.inFlight.add(task);
        }
        if (claimed.length > 0 && claimed.length === free) continue;
      } catch (err) {
        if (!this.running) break;
        this.deps.logger.error({ err }, 'webhook claim failed');
      }
      if (await this.idle.idle(this.settings.pollMs)) this.eventsDue = true;
    }
  }

  /** Every committed event into deliveries first (a conversation's deliveries are numbered in event order). */
  private async convert(): Promise<void> {
    while (this.running && (await convertWebhookEvents(this.deps, CONVERT_BATCH)).events === CONVERT_BATCH);
  }

  private claim(limit: number): Promise<ClaimedDelivery[]> {
    return claimDueDeliveries(this.deps.db, this.workerId, limit);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const body = typeof d.payload === 'string' ? d.payload : JSON.stringify(d.payload);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const url = await assertSafeWebhookUrl(d.url, this.settings.allowPrivate);
      const secret = openSigningSecret(this.deps.secretBox, { id: d.endpointId, tenantId: d.tenantId, signingSecretSealed: d.signingSecretSealed });
      const now = new Date();
      const signature = new Webhook(secret).sign(d.webhookId, now, body);
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sms-inbox-webhooks/1',
          'webhook-id': d.webhookId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = response.statusCode;
      await response.body.dump().catch(() => {});
    } catch (err) {
      error = errorText(err).slice(0, MAX_ERROR_TEXT);
    }
    if (status !== null && status >= 200 && status < 300) await this.succeeded(d, status);
    else await this.failed(d, status, error ?? `HTTP ${status}`);
  }

  private async succeeded(d: ClaimedDelivery, status: number): Promise<void> {
    await markDelivered(this.deps.db, this.workerId, d, status);
  }

  private async failed(d: ClaimedDelivery, status: number | null, error: string): Promise<void> {
    const { backoffBaseMs, backoffMaxMs, retryWindowSeconds } = this.settings;
    const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(d.attempts - 1, 30));
    const delayMs = Math.round(exponential * (0.8 + Math.random() * 0.4));
    const row = await markFailed(this.deps.db, this.workerId, d, { status, error, delayMs, retryWindowSeconds });
    if (row && !row.enabled) {
      this.deps.logger.warn({ tenantId: row.tenantId, endpointId: d.endpointId }, 'webhook endpoint disabled after failing for the retry window');
    }
  }

  async stop(): Promise<void> {
    this.deps.webhookEndpointCache.stop();
    this.running = false;
    this.idle.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }
}
