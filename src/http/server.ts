import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { TrustProxy } from '../config.js';
import type { AppDeps } from '../shared/deps.js';
import { registerGraphQL, type GraphQLEndpoint } from './graphql.js';
import { registerConsoleRoutes } from './console.routes.js';
import { registerHealthRoutes } from './health.routes.js';
import { registerMetrics } from './metrics.js';
import { registerMediaRoutes } from '../modules/media/media.routes.js';
import { replyWithError } from './domain-errors.js';
import { registerWebhookRoutes } from './webhooks.routes.js';
import { registerMediaFileRoutes } from '../modules/media-files/media-files.routes.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface HttpServer {
  app: FastifyInstance;
  graphql: GraphQLEndpoint;
}

/**
 * A hop count trusts exactly that many proxies from our side of X-Forwarded-For (the client's own
 * entries further left are never believed); a list trusts only those proxy addresses.
 */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

export async function createHttpServer(
  deps: AppDeps,
  schema: GraphQLSchema,
  registerExtraRoutes?: (app: FastifyInstance, deps: AppDeps) => void | Promise<void>,
): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.graphql.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(deps.config.trustProxy),
    // One log line per request only at debug/trace: at thousands of webhooks/s it is the biggest cost.
    logController: new LogController({
      disableRequestLogging: deps.config.logLevel !== 'debug' && deps.config.logLevel !== 'trace',
    }),
    // Keep a caller's request id (from a proxy or client) when it is sane; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerHealthRoutes(app, deps.database, deps.events);
  await registerWebhookRoutes(app, deps);
  await registerMediaFileRoutes(app, deps);
  // REST routes answer domain errors with their HTTP status (src/http/domain-errors.ts).
  await app.register(async (rest) => {
    rest.setErrorHandler(replyWithError);
    registerMediaRoutes(rest, deps);
  });
  const graphql = await registerGraphQL(app, deps, schema);
  registerMetrics(app, deps, { sockets: graphql.socketCount, live: graphql.liveStats });
  await registerConsoleRoutes(app, deps);
  await registerExtraRoutes?.(app, deps);
  return { app, graphql };
}
