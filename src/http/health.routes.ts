import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';

const READY_TIMEOUT_MS = 2000;

/** Resolves 'ok', or 'unavailable' when the check fails or takes longer than READY_TIMEOUT_MS. */
async function probe(check: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, database: Database, events?: EventBus): void {
  // Liveness: the process answers. Never touches the database, so a slow database does not get us killed.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Readiness: the database answers within 2 s, and so does the live-event transport (Redis with
  // REDIS_URL: without it this instance's subscribers would miss events); a load balancer stops
  // sending traffic otherwise. The body says which part failed.
  app.get('/readyz', async (_req, reply) => {
    const [db, live] = await Promise.all([probe(() => database.ping()), events ? probe(() => events.ping()) : Promise.resolve('ok' as const)]);
    const body = { status: db === 'ok' && live === 'ok' ? 'ready' : 'unavailable', database: database.kind, databaseStatus: db, events: events?.transportName ?? 'none', eventsStatus: live };
    if (body.status === 'ready') return body;
    app.log.warn(body, 'readiness check failed');
    return reply.code(503).send(body);
  });
}
