import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { deepFreeze, type Config } from './config.js';
import { migrateDatabase, openDatabase, type Database } from './db/client.js';
import { EventBus, InProcessTransport, type EventTransport } from './events/event-bus.js';
import { PgTransport } from './events/pg-transport.js';
import { RedisTransport } from './events/redis-transport.js';
import { buildAppSchema } from './graphql/schema.js';
import { createHttpServer } from './http/server.js';
import { MediaLinkSigner } from './modules/media/media-links.js';
import { OutboxDispatcher } from './modules/outbox/dispatcher.js';
import { ConversationAssignments } from './modules/conversations/assignments.js';
import { OutboxSignal } from './modules/outbox/outbox-signal.js';
import { WebhookAccountCache } from './modules/twilio-accounts/account-cache.js';
import { PresenceTracker } from './modules/routing/presence.js';
import { Router } from './modules/routing/router.js';
import { MembershipCache } from './modules/teams/memberships.js';
import { TokenService } from './modules/users/tokens.js';
import { SessionAuthenticator } from './modules/users/session-authenticator.js';
import type { AppDeps } from './shared/deps.js';
import { createLogger, type Logger } from './shared/logger.js';
import { LoginLimiter, SignUpLimiter } from './shared/login-limiter.js';
import { SecretBox } from './shared/secret-box.js';
import type { TwilioApiFactory } from './shared/twilio-factory.js';
import { createTwilioApi } from './twilio/client.js';

export interface StartOptions {
  logger?: Logger;
  /** Replaces the Twilio API client factory (benchmarks); tests use a fake Twilio server instead. */
  twilio?: TwilioApiFactory;
}

export interface RunningApp {
  /** Where the server listens, e.g. http://127.0.0.1:4000. */
  url: string;
  deps: AppDeps;
  /** Graceful stop: no new connections, in-flight requests and sockets drained, database closed. */
  close(): Promise<void>;
}

/** Wires everything from a validated Config and starts listening. Used by main.ts, tests and benchmarks. */
export async function startApp(givenConfig: Config, options: StartOptions = {}): Promise<RunningApp> {
  // Frozen (loadConfig's result already is; a copy made by a caller is frozen here).
  const config = Object.isFrozen(givenConfig) ? givenConfig : deepFreeze({ ...givenConfig });
  const logger = options.logger ?? createLogger(config.logLevel);
  const database: Database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    prepareStatements: config.databasePrepare,
    logger,
  });
  try {
    await migrateDatabase(database);
  } catch (err) {
    await database.close();
    throw err;
  }

  const events = new EventBus(liveTransport(config, database, logger), logger);
  try {
    await events.start();
  } catch (err) {
    await database.close();
    throw err;
  }

  // The app's object graph: every long-lived service, cache and registry is a member here (none
  // lives in a module-level map), so tests and benchmarks can run several apps in one process.
  const secretBox = new SecretBox(config.encryptionKey);
  const tokens = new TokenService(config.jwtSecret, config.jwtExpiresInSeconds);
  const sessions = new SessionAuthenticator(database.db, tokens, events, config.authCacheTtlSeconds * 1000, logger);
  sessions.start();

  // routing and presence need the finished graph: set right below.
  const graph: Omit<AppDeps, 'routing' | 'presence'> = {
    config,
    database,
    db: database.db,
    logger,
    secretBox,
    events,
    tokens,
    sessions,
    loginLimiter: new LoginLimiter(config.login),
    signUpLimiter: new SignUpLimiter(config.signUp.maxPerAddress, config.signUp.windowSeconds),
    // Reads deps.config on every call: the config in deps is replaced once the port is bound.
    twilio:
      options.twilio ??
      ((creds) =>
        createTwilioApi(creds, { timeoutMs: deps.config.twilioTimeoutMs, httpProxy: deps.config.httpProxy, outbound: deps.config.outbound })),
    accountCache: new WebhookAccountCache(database.db, secretBox),
    outbox: new OutboxSignal(),
    mediaLinks: new MediaLinkSigner(config.jwtSecret, config.mediaLinkTtlSeconds),
    assignments: new ConversationAssignments(),
    memberships: new MembershipCache(database.db, events),
  };
  const deps = graph as AppDeps;
  const router = new Router(deps);
  deps.routing = router;
  const presence = new PresenceTracker(deps);
  deps.presence = presence;

  const schema = await buildAppSchema();
  const { app, graphql } = await createHttpServer(deps, schema);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const listenHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${listenHost === '0.0.0.0' || listenHost === '[::]' ? '127.0.0.1' : listenHost}:${address.port}`;
  // Without PUBLIC_URL the advertised base follows the port actually bound (PORT=0 in tests).
  // Config stays frozen: deps gets a frozen copy with the bound port, before any request is served.
  if (!config.publicUrlExplicit) deps.config = deepFreeze({ ...config, publicUrl: `http://localhost:${address.port}` });
  logger.info({ url, publicUrl: deps.config.publicUrl, database: database.kind, events: events.transportName }, 'server listening');

  // After listen: status callbacks for what it sends must find a server answering.
  const dispatcher = config.dispatcher.enabled ? new OutboxDispatcher(deps) : null;
  dispatcher?.start();
  // Routes what a crash or a restart left waiting, then sweeps periodically.
  router.start();
  presence.start();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // First: in-flight sends finish and record their outcome while the database is still open.
      await dispatcher?.stop();
      await graphql.closeSockets();
      sessions.stop();
      // After the sockets (their close is recorded), before the database closes.
      await presence.stop();
      await router.stop();
      await app.close();
      await events.close();
      await database.close();
      logger.info('server stopped');
    })());

  return { url, deps, close };
}

/** Live events across instances: Redis when REDIS_URL is set, else Postgres LISTEN/NOTIFY; PGlite is one process. */
function liveTransport(config: Config, database: Database, logger: Logger): EventTransport {
  if (config.redisUrl) return new RedisTransport(config.redisUrl, logger);
  if (database.kind === 'postgres') return new PgTransport(database, logger);
  return new InProcessTransport();
}
