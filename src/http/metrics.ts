import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppDeps } from '../shared/deps.js';

/**
 * Prometheus metrics on GET /metrics (prom-client): process defaults, HTTP requests by route
 * pattern (never the raw URL, which carries webhook keys), and live gauges read at scrape time.
 * One registry per app instance, so several servers in one process (tests) do not collide.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: AppDeps,
  gauges: { sockets: () => number; live?: () => { executions: number; deliveries: number; dropped: number } },
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'graphql_ws_sockets',
    help: 'Open graphql-ws WebSocket connections',
    registers: [registry],
    collect() {
      this.set(gauges.sockets());
    },
  });
  new Gauge({
    name: 'live_subscribers',
    help: 'Live event subscribers on this instance',
    registers: [registry],
    collect() {
      this.set(deps.events.subscriberCount);
    },
  });

  new Counter({
    name: 'db_statements_total',
    help: 'SQL statements this instance sent through its query builder (round trips are most of the server CPU a statement costs)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.database.stats.statements);
    },
  });

  deps.ingest.registerMetrics(registry);
  deps.searchIndexMerge.registerMetrics(registry);
  // Identical subscriptions share one execution per event: executions ≤ deliveries.
  const live = gauges.live;
  if (live) {
    for (const [name, help, read] of [
      ['live_executions_total', 'Live results computed (one per event per group of identical subscriptions)', () => live().executions],
      ['live_deliveries_total', 'Live next frames written to WebSockets', () => live().deliveries],
      ['live_dropped_total', 'Live frames not written because the socket was too far behind', () => live().dropped],
      ['live_overflowed_total', 'Live events a subscription too far behind never computed (its oldest waiting events let go)', () => deps.events.overflowed],
    ] as const) {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  // With METRICS_TOKEN: a bearer token is needed; in production without one there are no
  // metrics at all (they show traffic and tenants' activity to anyone who can reach the port).
  const token = deps.config.metricsToken;
  const expected = token ? Buffer.from(`Bearer ${token}`) : null;
  if (!expected && deps.config.env === 'production') return registry;
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const given = Buffer.from(String(request.headers.authorization ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain').send('Unauthorized');
      }
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
