/**
 * Holds many graphql-ws subscriptions (one WebSocket each, authenticated with a tenant user's
 * token), as agent dashboards do. Every message the benchmark sends carries a tag in its body:
 *
 *   bench|<phase>|t<tenant index>|s<sequence>|ts<epoch ms at send>|...
 *
 * so each received event gives its delivery latency (sender and receiver share the machine's
 * clock) and whether it reached a subscriber of the right tenant.
 */
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
  socket: WebSocket;
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

/**
 * One subscription over its own socket, speaking graphql-transport-ws directly (connection_init,
 * connection_ack, subscribe; `next` frames) rather than through graphql-ws's client: this process
 * shares the two cores with the server, and at 10,000 frames a second the client library's
 * per-message work was as costly as the server's own per-frame work (bench/results.md). Every
 * frame is still parsed as JSON and checked (tenant tag, duplicates); WebSocket pings are
 * answered by ws itself.
 */
function connectOne(wsUrl: string, spec: SubscriberSpec, query: string): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (err: string | null) => {
      if (!settled) {
        settled = true;
        resolve(err);
      }
    };
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const sub: Sub = { tenant: spec.tenant, socket, total: 0, seen: new Set(), closed: false };
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${spec.token}` } }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { messageAdded?: { body?: string } } } };
      if (message.type === 'next') onEvent(sub, message.payload?.data?.messageAdded?.body);
      else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        settle(null);
      } else if (message.type === 'error') errors++;
    });
    socket.on('close', (code) => {
      sub.closed = true;
      settle(`closed: ${code}`);
    });
    socket.on('error', (err) => {
      errors++;
      settle(`error: ${err.message}`);
    });
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
      await Promise.allSettled(
        subs.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.socket.readyState === WebSocket.CLOSED) return resolve();
              s.socket.once('close', () => resolve());
              s.socket.close(1000);
            }),
        ),
      );
      subs.length = 0;
      return { ok: true };
    default:
      return undefined;
  }
});
