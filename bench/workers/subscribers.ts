/**
 * Holds many graphql-ws subscriptions (one WebSocket each, authenticated with a tenant user's
 * token), as agent dashboards do. Every message the benchmark sends carries a tag in its body:
 *
 *   bench|<phase>|t<tenant index>|s<sequence>|ts<epoch ms at send>|...
 *
 * so each received event gives its delivery latency (sender and receiver share the machine's
 * clock) and whether it reached a subscriber of the right tenant.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { epochMs, summarize, type LatencySummary } from '../lib/stats.js';
import { serve } from './ipc.js';

export interface SubscriberSpec {
  tenant: number;
  token: string;
}

export type SubscribersCommand =
  | { type: 'connect'; wsUrl: string; subs: SubscriberSpec[]; query: string; concurrency: number }
  | { type: 'counts' }
  | { type: 'phase'; phase: string }
  | { type: 'report'; phase: string }
  | { type: 'close' };

export interface ConnectResult {
  connected: number;
  failed: number;
  firstError: string | null;
  ms: number;
}

export interface CountsResult {
  subscribers: number;
  /** Subscribers that have received at least one event (any phase): their subscription is live. */
  withEvents: number;
  closed: number;
  errors: number;
}

export interface PhaseReport {
  phase: string;
  received: number;
  /** Events of this phase received twice by the same subscriber. */
  duplicates: number;
  /** Events carrying another tenant's tag. */
  wrongTenant: number;
  /** Events without a bench tag (nothing else should be flowing). */
  untagged: number;
  /** Per subscriber: distinct events of the phase received, by tenant (for the expected count). */
  receivedByTenant: Record<number, number>;
  latencyMs: LatencySummary;
}

const TAG = /^bench\|([^|]+)\|t(\d+)\|s(\d+)\|ts([\d.]+)\|/;

interface Sub {
  tenant: number;
  client: Client;
  total: number;
  seen: Set<string>;
  closed: boolean;
}

const subs: Sub[] = [];
let errors = 0;
let phase = '';
let stats = freshStats();

function freshStats() {
  return { received: 0, duplicates: 0, wrongTenant: 0, untagged: 0, receivedByTenant: {} as Record<number, number>, latencies: [] as number[] };
}

function onEvent(sub: Sub, body: unknown): void {
  const now = epochMs();
  sub.total++;
  const m = typeof body === 'string' ? TAG.exec(body) : null;
  if (!m) {
    stats.untagged++;
    return;
  }
  const [, p, t, s, ts] = m;
  if (Number(t) !== sub.tenant) stats.wrongTenant++;
  if (p !== phase) return;
  const key = s!;
  if (sub.seen.has(key)) {
    stats.duplicates++;
    return;
  }
  sub.seen.add(key);
  stats.received++;
  stats.receivedByTenant[sub.tenant] = (stats.receivedByTenant[sub.tenant] ?? 0) + 1;
  stats.latencies.push(now - Number(ts));
}

function connectOne(wsUrl: string, spec: SubscriberSpec, query: string): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (err: string | null) => {
      if (!settled) {
        settled = true;
        resolve(err);
      }
    };
    const sub: Sub = { tenant: spec.tenant, client: undefined as unknown as Client, total: 0, seen: new Set(), closed: false };
    sub.client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${spec.token}` },
      on: {
        connected: () => settle(null),
        closed: (event) => {
          sub.closed = true;
          settle(`closed: ${(event as { code?: number }).code ?? '?'}`);
        },
        error: (err) => {
          errors++;
          settle(`error: ${err instanceof Error ? err.message : String(err)}`);
        },
      },
    });
    sub.client.subscribe<{ messageAdded?: { body?: string } }>(
      { query },
      {
        next: (value) => onEvent(sub, value.data?.messageAdded?.body),
        error: () => {
          errors++;
        },
        complete: () => {},
      },
    );
    subs.push(sub);
  });
}

async function connect(cmd: Extract<SubscribersCommand, { type: 'connect' }>): Promise<ConnectResult> {
  const start = performance.now();
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < cmd.subs.length) {
      const spec = cmd.subs[next++]!;
      const err = await connectOne(cmd.wsUrl, spec, cmd.query);
      if (err) {
        failed++;
        firstError ??= err;
      } else connected++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, worker));
  return { connected, failed, firstError, ms: performance.now() - start };
}

serve<SubscribersCommand & { [k: string]: unknown }>(async (cmd) => {
  switch (cmd.type) {
    case 'connect':
      return connect(cmd);
    case 'counts':
      return {
        subscribers: subs.length,
        withEvents: subs.filter((s) => s.total > 0).length,
        closed: subs.filter((s) => s.closed).length,
        errors,
      } satisfies CountsResult;
    case 'phase':
      phase = cmd.phase;
      stats = freshStats();
      for (const s of subs) s.seen.clear();
      return { ok: true };
    case 'report': {
      const { latencies, ...rest } = stats;
      return { phase: cmd.phase, ...rest, latencyMs: summarize(latencies) } satisfies PhaseReport;
    }
    case 'close':
      await Promise.allSettled(subs.map((s) => s.client.dispose()));
      subs.length = 0;
      return { ok: true };
    default:
      return undefined;
  }
});
