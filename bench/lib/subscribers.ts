/** Driving the subscribers worker (workers/subscribers.ts) from the harness. */
import { signedFormPost, inboundSmsParams } from '../../src/sandbox/twilio-simulator.js';
import type { ConnectResult, CountsResult, PhaseReport, SubscribersCommand } from '../workers/subscribers.js';
import { persistentWorker } from './procs.js';
import { senderNumber, type Tenant } from './seed.js';
import { sleep } from './stats.js';

export const MESSAGE_ADDED = 'subscription { messageAdded { id conversationId direction body status createdAt } }';

export interface Subscribers {
  connect: ConnectResult;
  /** Subscribers per tenant index. */
  perTenant: Map<number, number>;
  call<T>(cmd: SubscribersCommand, timeoutMs?: number): Promise<T>;
  /** Closes the sockets (the client process stays for the next scenario). */
  close(): Promise<void>;
}

/** The client process holding the subscriptions, shared by the scenarios that need one. */
export const subscriberProcess = persistentWorker('subscribers', 'bench/workers/subscribers.ts', { echoStderr: true });

/**
 * Sockets the harness opens per user: half the server's WS_MAX_SOCKETS_PER_USER default (20, a
 * security cap the bench keeps), so sockets of an earlier scenario whose release is still on its
 * way to the database (quick mode reuses the server) cannot push a user over it.
 */
export const SOCKETS_PER_USER = 10;

/** Agent tokens each tenant needs for `count` subscriptions spread evenly over `tenants`. */
export function usersPerTenant(tenants: readonly Tenant[], count: number): number {
  return Math.ceil(Math.ceil(count / Math.max(1, tenants.length)) / SOCKETS_PER_USER);
}

/**
 * Opens `count` subscriptions, spread round-robin over the tenants and, within a tenant, over its
 * agents' tokens at most SOCKETS_PER_USER each (see ensureAgentTokens in seed.ts).
 */
export async function openSubscribers(wsUrl: string, tenants: readonly Tenant[], count: number, concurrency: number): Promise<Subscribers> {
  const call = <T>(cmd: SubscribersCommand, timeoutMs = 120_000) => subscriberProcess.call<T>(cmd, timeoutMs);
  const perTenant = new Map<number, number>();
  const subs = Array.from({ length: count }, (_, j) => {
    const t = tenants[j % tenants.length]!;
    const k = perTenant.get(t.index) ?? 0;
    perTenant.set(t.index, k + 1);
    const tokens = [t.agentToken, ...(t.moreAgentTokens ?? [])];
    const user = Math.floor(k / SOCKETS_PER_USER);
    if (user >= tokens.length) throw new Error(`tenant ${t.index}: ${tokens.length} agent token(s) for more than ${k} sockets (at most ${SOCKETS_PER_USER} per user); call ensureAgentTokens first`);
    return { tenant: t.index, token: tokens[user]! };
  });
  try {
    const connect = await call<ConnectResult>({ type: 'connect', wsUrl, subs, query: MESSAGE_ADDED, concurrency }, 600_000);
    return {
      connect,
      perTenant,
      call,
      async close() {
        await call({ type: 'close' }, 60_000);
      },
    };
  } catch (err) {
    await call({ type: 'close' }, 60_000).catch(() => {});
    throw err;
  }
}

/** One signed inbound webhook per tenant, sent from the harness (warm-ups, not measured). */
export async function webhookPerTenant(tenants: readonly Tenant[], phase: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < tenants.length; i += 20) {
    const batch = tenants.slice(i, i + 20);
    const answers = await Promise.all(
      batch.map((t, j) =>
        signedFormPost(
          t.webhookUrl,
          t.authToken,
          inboundSmsParams({
            accountSid: t.accountSid,
            from: senderNumber(900_000 + j),
            to: t.e164,
            body: `bench|${phase}|t${t.index}|s${i + j}|ts0| warm-up`,
          }),
        ).then(
          async (r) => {
            await r.arrayBuffer();
            return r.ok;
          },
          () => false,
        ),
      ),
    );
    ok += answers.filter(Boolean).length;
  }
  return ok;
}

/**
 * graphql-ws has no "subscribed" acknowledgement: a subscription is known to be live once it
 * has received an event. Sends one message per tenant until every subscriber has had one.
 */
export async function awaitAllSubscribed(subs: Subscribers, tenants: readonly Tenant[], maxMs = 60_000): Promise<CountsResult> {
  const deadline = Date.now() + maxMs;
  let counts = await subs.call<CountsResult>({ type: 'counts' });
  let round = 0;
  while (counts.withEvents < counts.subscribers - counts.closed && Date.now() < deadline) {
    await webhookPerTenant(tenants, `warm${round++}`);
    const until = Math.min(deadline, Date.now() + 3000);
    while (Date.now() < until) {
      await sleep(200);
      counts = await subs.call<CountsResult>({ type: 'counts' });
      if (counts.withEvents >= counts.subscribers - counts.closed) break;
    }
  }
  return counts;
}

/** Polls the phase report until `expected` events arrived, or nothing new came for quietMs. */
export async function awaitDelivery(subs: Subscribers, phase: string, expected: number, quietMs = 3000, maxMs = 30_000): Promise<PhaseReport> {
  const start = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const r = await subs.call<PhaseReport>({ type: 'report', phase });
    if (r.received >= expected) return r;
    if (r.received !== last) {
      last = r.received;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > quietMs || Date.now() - start > maxMs) return r;
    await sleep(250);
  }
}
