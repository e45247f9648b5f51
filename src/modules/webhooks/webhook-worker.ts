import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, getTableColumns, isNotNull, sql, type Column, type SQL } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { rowsOf } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { errorText } from '../../shared/errors.js';
import { WebhookEnqueuer } from './webhook-enqueuer.js';
import { assertSafeWebhookUrl, guardedLookup } from './url-guard.js';
import { openSigningSecret } from './webhooks.service.js';
import { webhookDeliveries, webhookEndpoints } from './webhooks.schema.js';

interface ClaimedDelivery {
  id: number;
  tenantId: string;
  endpointId: string;
  webhookId: string;
  payload: unknown;
  attempts: number;
  url: string;
  signingSecretSealed: string;
}

const LEASE_SECONDS = 60;
/** A slow or hanging endpoint holds at most this many of the worker slots (all instances together). */
const MAX_IN_FLIGHT_PER_ENDPOINT = 2;
const MAX_ERROR_TEXT = 500;

/**
 * Delivers queued webhook events: claims due deliveries (leased, SKIP LOCKED: instances share
 * the queue), only the oldest pending one of each (endpoint, conversation) so a conversation's
 * events arrive in order, POSTs them with Standard Webhooks headers within WEBHOOK_TIMEOUT_MS,
 * and records the outcome. Non-2xx or no answer: retried with exponential backoff until the
 * delivery is WEBHOOK_RETRY_WINDOW_SECONDS old (then FAILED); an endpoint whose every attempt
 * failed for that long is disabled. Runs beside ingest and the outbox, never on their path.
 */
export class WebhookWorker {
  readonly workerId = `${hostname()}:${process.pid}:wh:${randomUUID().slice(0, 8)}`;
  private readonly enqueuer: WebhookEnqueuer;
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private wakeRequested = false;

  constructor(private readonly deps: AppDeps) {
    const { allowPrivate } = deps.config.webhooks;
    this.agent = new Agent({ connect: { lookup: guardedLookup(allowPrivate) as never }, connections: 16 });
    this.enqueuer = new WebhookEnqueuer(deps, () => this.wake());
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
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
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
      await this.sleep(this.settings.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        this.wakeRequested = false;
        done();
      };
    });
  }

  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const W = webhookDeliveries;
    const E = webhookEndpoints;
    // Aliased columns from the schema: d, p, w are deliveries, e the endpoint, f the in-flight counts.
    const d = aliased('d', W);
    const p = aliased('p', W);
    const w = aliased('w', W);
    const e = aliased('e', E);
    const result = await this.deps.db.execute(sql`
      with in_flight as (
        select ${W.endpointId} as endpoint_id, count(*) as n from ${W}
        where ${W.status} = 'PENDING' and ${W.lockedUntil} > now()
        group by ${W.endpointId}
      ),
      candidates as (
        select ${d.id} as id, row_number() over (partition by ${d.endpointId} order by ${d.id}) + coalesce(f.n, 0) as slot
        from ${W} d
        join ${E} e on ${e.id} = ${d.endpointId} and ${e.tenantId} = ${d.tenantId} and ${e.enabled}
        left join in_flight f on f.endpoint_id = ${d.endpointId}
        where ${d.status} = 'PENDING' and ${d.nextAttemptAt} <= now()
          and (${d.lockedUntil} is null or ${d.lockedUntil} < now())
          and not exists (
            select 1 from ${W} p
            where ${p.endpointId} = ${d.endpointId} and ${p.orderingKey} = ${d.orderingKey} and ${p.status} = 'PENDING' and ${p.id} < ${d.id}
          )
      ),
      due as (
        select ${d.id} as id from ${W} d
        where ${d.id} in (select id from candidates where slot <= ${MAX_IN_FLIGHT_PER_ENDPOINT})
        order by ${d.id}
        limit ${limit}
        for update of d skip locked
      )
      update ${W} w
      set ${sql.identifier(W.lockedUntil.name)} = now() + ${LEASE_SECONDS} * interval '1 second', ${sql.identifier(W.lockedBy.name)} = ${this.workerId},
        ${sql.identifier(W.attempts.name)} = ${w.attempts} + 1
      from due, ${E} e
      where ${w.id} = due.id and ${e.id} = ${w.endpointId}
      returning ${w.id} as id, ${w.tenantId} as "tenantId", ${w.endpointId} as "endpointId", ${w.webhookId} as "webhookId", ${w.payload} as payload,
        ${w.attempts} as attempts, ${e.url} as url, ${e.signingSecretSealed} as "signingSecretSealed"
    `);
    return rowsOf<ClaimedDelivery>(result).map((r) => ({ ...r, id: Number(r.id) }));
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
    const W = webhookDeliveries;
    await this.deps.db
      .update(W)
      .set({ status: 'DELIVERED', deliveredAt: sql`now()`, lastResponseStatus: status, lastError: null, lockedUntil: null })
      .where(and(eq(W.id, d.id), eq(W.lockedBy, this.workerId)));
    await this.deps.db
      .update(webhookEndpoints)
      .set({ failingSince: null })
      .where(and(eq(webhookEndpoints.id, d.endpointId), isNotNull(webhookEndpoints.failingSince)));
  }

  private async failed(d: ClaimedDelivery, status: number | null, error: string): Promise<void> {
    const { backoffBaseMs, backoffMaxMs, retryWindowSeconds } = this.settings;
    const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(d.attempts - 1, 30));
    const delayMs = Math.round(exponential * (0.8 + Math.random() * 0.4));
    const W = webhookDeliveries;
    const E = webhookEndpoints;
    // One transaction, so both statements see the same now(): the attempt that fails the delivery
    // for good is the one that disables a long-failing endpoint, never one without the other.
    const disabled = await this.deps.db.transaction(async (tx) => {
      await tx
        .update(W)
        .set({
          lastResponseStatus: status,
          lastError: error,
          lockedUntil: null,
          status: sql`case when ${W.createdAt} < now() - ${retryWindowSeconds} * interval '1 second' then 'FAILED' else 'PENDING' end`,
          nextAttemptAt: sql`now() + ${delayMs} * interval '1 millisecond'`,
        })
        .where(and(eq(W.id, d.id), eq(W.lockedBy, this.workerId)));
      // Failing since the event it could not take was created (not since the first attempt): so the
      // attempt that gives up on a delivery after the window also finds the endpoint failing that long.
      const since = sql`coalesce(${E.failingSince}, (select ${W.createdAt} from ${W} where ${W.id} = ${d.id}))`;
      const tooLong = sql`${since} < now() - ${retryWindowSeconds} * interval '1 second'`;
      return tx
        .update(E)
        .set({
          failingSince: since,
          enabled: sql`case when ${tooLong} then false else ${E.enabled} end`,
          disabledReason: sql`case when ${tooLong} then 'every delivery failed for ' || ${retryWindowSeconds}::int || ' s' else ${E.disabledReason} end`,
        })
        .where(eq(E.id, d.endpointId))
        .returning({ enabled: E.enabled, tenantId: E.tenantId });
    });
    const [row] = disabled;
    if (row && !row.enabled) {
      this.deps.logger.warn({ tenantId: row.tenantId, endpointId: d.endpointId }, 'webhook endpoint disabled after failing for the retry window');
    }
  }

  async stop(): Promise<void> {
    await this.enqueuer.close();
    this.deps.webhookEndpointCache.stop();
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }
}

/** `alias.column` for every column of a table, for statements that use one table under several aliases. */
function aliased<T extends { _: { columns: Record<string, Column> } }>(alias: string, table: T): Record<keyof T['_']['columns'], SQL> {
  const columns = getTableColumns(table as never) as Record<string, Column>;
  return Object.fromEntries(Object.entries(columns).map(([key, c]) => [key, sql`${sql.raw(alias)}.${sql.identifier(c.name)}`])) as never;
}
