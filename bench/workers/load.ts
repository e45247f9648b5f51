/**
 * The load generator: autocannon in its own process. Each job sends a fixed number of requests,
 * either one repeated request or a list prepared (and signed) beforehand and read from a file:
 * request i of the run is list item i, whatever connection sends it, so every item goes out
 * exactly once. Latencies are the raw per-response times (no coordinated-omission synthesis)
 * and throughput is measured from the first request to the last response (autocannon's own
 * duration is rounded up to its 1-second sampling tick).
 */
import { readFileSync } from 'node:fs';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { summarize, type LatencySummary } from '../lib/stats.js';

export interface PreparedRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadJob {
  /** http://127.0.0.1:PORT */
  origin: string;
  method?: 'POST' | 'GET';
  /** A JSON file holding PreparedRequest[]; request i of the run is item i. */
  requestsFile?: string;
  /** Or one request repeated. */
  request?: PreparedRequest;
  /** Requests to send (a prepared list is sent once at most). */
  amount: number;
  /** Only with `request`: run for this long instead of a count. */
  durationSec?: number;
  connections: number;
  /** autocannon overallRate (requests/s over all connections); none = as fast as possible. */
  overallRate?: number;
  timeoutSec?: number;
}

export interface LoadResult {
  amount: number;
  completed: number;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  elapsedMs: number;
  /** completed 2xx responses per second. */
  throughput: number;
  latencyMs: LatencySummary;
  /** Epoch ms of the start and of the last response. */
  startedAt: number;
  lastResponseAt: number;
}

export async function runAutocannon(job: LoadJob): Promise<LoadResult> {
  const items: PreparedRequest[] | null = job.requestsFile ? (JSON.parse(readFileSync(job.requestsFile, 'utf8')) as PreparedRequest[]) : null;
  const amount = items ? Math.min(job.amount, items.length) : job.amount;
  const byDuration = !items && job.durationSec !== undefined;
  const method = job.method ?? 'POST';
  let next = 0;
  const template: AutocannonRequest = items
    ? {
        method,
        setupRequest: (req) => {
          const item = items[next++ % items.length]!;
          return { ...req, method, path: item.path, body: item.body, headers: item.headers };
        },
      }
    : { method, path: job.request!.path, body: job.request!.body, headers: job.request!.headers };

  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let completed = 0;
  let lastResponse = 0;
  const start = performance.now();
  const startedAt = performance.timeOrigin + start;

  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.origin,
        connections: byDuration ? job.connections : Math.max(1, Math.min(job.connections, amount)),
        pipelining: 1,
        ...(byDuration ? { duration: job.durationSec } : { amount }),
        timeout: job.timeoutSec ?? 10,
        requests: [template],
        ...(job.overallRate ? { overallRate: job.overallRate } : {}),
        skipAggregateResult: false,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      completed++;
      lastResponse = performance.now();
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok2xx++;
        latencies.push(responseTime);
      }
    });
  });

  const elapsedMs = (lastResponse || performance.now()) - start;
  return {
    amount: byDuration ? completed : amount,
    completed,
    ok2xx,
    non2xx: completed - ok2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    elapsedMs,
    throughput: elapsedMs > 0 ? (ok2xx * 1000) / elapsedMs : 0,
    latencyMs: summarize(latencies),
    startedAt,
    lastResponseAt: performance.timeOrigin + (lastResponse || performance.now()),
  };
}

