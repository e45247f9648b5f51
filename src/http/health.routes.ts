import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/client.js';

const READY_TIMEOUT_MS = 2000;

export function registerHealthRoutes(app: FastifyInstance, database: Database): void {
  // Liveness: the process answers. Never touches the database, so a slow database does not get us killed.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Readiness: the database answers within 2 s; a load balancer stops sending traffic otherwise.
  app.get('/readyz', async (_req, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        database.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('database ping timed out')), READY_TIMEOUT_MS);
        }),
      ]);
      return { status: 'ready', database: database.kind };
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', database: database.kind });
    } finally {
      clearTimeout(timer);
    }
  });
}
