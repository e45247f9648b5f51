import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { deepFreeze, type Config } from './config.js';
import { migrateDatabase, openDatabase, type Database } from './db/client.js';
import { EventBus, InProcessTransport, type EventTransport } from './events/event-bus.js';
import { PgTransport } from './events/pg-transport.js';
import { RedisTransport } from './events/redis-transport.js';
import { buildAppSchema } from './graphql/schema.js';
import { preloadConsole } from './http/console.routes.js';
import { createHttpServer } from './http/server.js';
import { AutomationEngine } from './modules/automations/automation-engine.js';
import { startAutomations } from './modules/automations/automations.runtime.js';
import { FallbackService } from './modules/fallback/fallback.service.js';
import { MediaLinkSigner } from './modules/media/media-links.js';
import { OutboxDispatcher } from './modules/outbox/dispatcher.js';
import { MediaCopyWorker } from './modules/media/media-copy.worker.js';
import { CampaignRunner } from './modules/campaigns/campaign-runner.js';
import { MediaStore } from './modules/media-files/media-store.js';
import { MediaFileLinkSigner } from './modules/media-files/media-file-links.js';
import { ConversationAssignments } from './modules/conversations/assignments.js';
import { OutboxSignal } from './modules/outbox/outbox-signal.js';
import { WebhookAccountCache } from './modules/twilio-accounts/account-cache.js';
import { PresenceTracker } from './modules/routing/presence.js';
import { IngestBatcher } from './modules/inbound/ingest-batcher.js';
import { ReplyBatcher } from './modules/messages/reply-batcher.js';
import { Router } from './modules/routing/router.js';
import { MembershipCache } from './modules/teams/memberships.js';
import { WebhookWorker } from './modules/webhooks/webhook-worker.js';
import { GinPendingListMerger } from './db/gin-pending-merge.js';
import { MaintenanceWorker } from './modules/privacy/maintenance-worker.js';
import { TwilioDeletionSignal } from './modules/privacy/twilio-deletion-signal.js';
import { WebhookEndpointCache } from './modules/webhooks/webhook-endpoint-cache.js';
import { TokenService } from './modules/users/tokens.js';
import { systemClock, type Clock } from './shared/clock.js';
import { SessionAuthenticator } from './modules/users/session-authenticator.js';
import type { AppDeps } from './shared/deps.js';
import { createLogger, type Logger } from './shared/logger.js';
import { LoginLimiter, SignUpLimiter } from './shared/login-limiter.js';
import { WorkerSignal } from './shared/worker-signal.js';
import { DbAttemptCounters } from './modules/users/attempt-counters.js';
import { SecretBox } from './shared/secret-box.js';
import type { TwilioApiFactory } from './shared/twilio-factory.js';
import { createTwilioApi } from './twilio/client.js';

export interface StartOptions {
  logger?: Logger;
  /** Replaces the Twilio API client factory (benchmarks); tests use a fake Twilio server instead. */
  twilio?: TwilioApiFactory;
  /** "Now" for business rules; the system clock unless given (tests may also replace deps.clock). */
  clock?: Clock;
  /** Extra HTTP routes, registered before listening (the sandbox's). */
  registerRoutes?: (app: FastifyInstance, deps: AppDeps) => void | Promise<void>;
  /** Runs once listening, before the dispatcher starts (the sandbox points its accounts at the simulator). */
  onListening?: (deps: AppDeps, url: string) => Promise<void>;
  /** Runs at the end of close() (the sandbox stops the simulator). */
  onClosed?: () => Promise<void>;
  /** Where a new PGlite DATA_DIR's image is looked for (tests); default dist/pglite-image, null: never. */
  pgliteImageRoot?: string | null;
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
  preloadConsole();
  const database: Database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    prepareStatements: config.databasePrepare,
    logger,
    ...(options.pgliteImageRoot !== undefined ? { pgliteImageRoot: options.pgliteImageRoot } : {}),
  });
  try {
    await migrateDatabase(database);
  } catch (err) {
    await database.close();
    throw err;
  }

  const events = new EventBus(await liveTransport(config, database, logger), logger);
  try {
    await events.start();
  } catch (err) {
    await database.close();
    throw err;
  }

  // The app's object graph: every long-lived service, cache and registry is a member here (none
  // lives in a module-level map), so tests and benchmarks can run several apps in one process.
  const secretBox = new SecretBox(config.encryptionKey);
  const automationEngine = new AutomationEngine();
  const tokens = new TokenService(config.jwtSecret, config.jwtExpiresInSeconds);
  const sessions = new SessionAuthenticator(database.db, tokens, events, config.authCacheTtlSeconds * 1000, logger);
  sessions.start();

  // Log-in and sign-up counts shared by every instance on this database.
  const attemptCounters = new DbAttemptCounters(database.db);

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
    loginLimiter: new LoginLimiter(attemptCounters, config.login),
    signUpLimiter: new SignUpLimiter(attemptCounters, config.signUp.maxPerAddress, config.signUp.windowSeconds),
    // Reads deps.config on every call: the config in deps is replaced once the port is bound.
    twilio:
      options.twilio ??
      ((creds) =>
        createTwilioApi(creds, { timeoutMs: deps.config.twilioTimeoutMs, httpProxy: deps.config.httpProxy, outbound: deps.config.outbound })),
    accountCache: new WebhookAccountCache(database.db, secretBox, events),
    outbox: new OutboxSignal(),
    mediaLinks: new MediaLinkSigner(config.jwtSecret, config.mediaLinkTtlSeconds),
    clock: options.clock ?? systemClock,
    automations: automationEngine,
    fallback: new FallbackService(),
    mediaFileLinks: new MediaFileLinkSigner(config.jwtSecret),
    mediaStore: new MediaStore(config.media),
    mediaCopy: new WorkerSignal(),
    campaignRunner: new WorkerSignal(),
    assignments: new ConversationAssignments(),
    memberships: new MembershipCache(database.db, events),
    webhookEndpointCache: new WebhookEndpointCache(database.db, (err) => logger.warn({ err }, 'could not load webhook endpoints')),
    twilioDeletions: new TwilioDeletionSignal(),
    // Read through deps (declared below) so the batcher uses the same handle as every other path.
    ingest: new IngestBatcher(() => deps.db, config.ingestBatch, logger),
    replies: new ReplyBatcher(() => deps.db, config.replyBatch, (rows) => deps.outbox.enqueueSql(rows), logger),
    searchIndexMerge: new GinPendingListMerger(() => deps.db, config.searchIndexMergeMs, logger),
  };
  const deps = graph as AppDeps;
  const router = new Router(deps);
  deps.routing = router;
  const presence = new PresenceTracker(deps);
  deps.presence = presence;
  // It reads the rest of the graph through deps (deps.config is replaced once the port is bound).
  automationEngine.bind(deps);

  // Listens to the event bus from now on; delivers once started (after listen).
  const webhooks = new WebhookWorker(deps);

  const schema = await buildAppSchema();
  const { app, graphql } = await createHttpServer(deps, schema, options.registerRoutes);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const listenHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${listenHost === '0.0.0.0' || listenHost === '[::]' ? '127.0.0.1' : listenHost}:${address.port}`;
  // Without PUBLIC_URL the advertised base follows the port actually bound (PORT=0 in tests).
  // Config stays frozen: deps gets a frozen copy with the bound port, before any request is served.
  if (!config.publicUrlExplicit) deps.config = deepFreeze({ ...config, publicUrl: `http://localhost:${address.port}` });
  logger.info(
    { url, publicUrl: deps.config.publicUrl, database: database.kind, pgliteDataDir: database.pgliteDataDir ?? undefined, events: events.transportName },
    'server listening',
  );

  await options.onListening?.(deps, url);

  // After listen: status callbacks for what it sends must find a server answering.
  const dispatcher = config.dispatcher.enabled ? new OutboxDispatcher(deps) : null;
  dispatcher?.start();
  // Before the router starts: its guards (closed numbers hold) and queue listener are registered.
  const automations = startAutomations(deps, automationEngine);
  await deps.fallback.start(deps);
  // Campaign recipients become outbox jobs where outbox jobs are sent.
  const campaignRunner = config.dispatcher.enabled ? new CampaignRunner(deps) : null;
  campaignRunner?.start();
  const mediaCopy = config.media.copyEnabled ? new MediaCopyWorker(deps) : null;
  mediaCopy?.start();
  // Routes what a crash or a restart left waiting, then sweeps periodically.
  router.start();
  presence.start();
  webhooks.start();
  const maintenance = new MaintenanceWorker(deps);
  maintenance.start();
  deps.searchIndexMerge.start();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // First: in-flight sends finish and record their outcome while the database is still open.
      await campaignRunner?.stop();
      await dispatcher?.stop();
      await mediaCopy?.stop();
      await webhooks.stop();
      await maintenance.stop();
      await deps.searchIndexMerge.stop();
      await graphql.closeSockets();
      sessions.stop();
      // After the sockets (their close is recorded), before the database closes.
      await presence.stop();
      await router.stop();
      await app.close();
      // After the HTTP server: no new inbound text can start an automated answer.
      await automations.stop();
      await deps.fallback.stop();
      await events.close();
      await database.close();
      deps.mediaStore.close();
      await options.onClosed?.();
      logger.info('server stopped');
    })());

  return { url, deps, close };
}

/** Live events across instances: Redis when REDIS_URL is set, else Postgres LISTEN/NOTIFY; PGlite is one process. */
async function liveTransport(config: Config, database: Database, logger: Logger): Promise<EventTransport> {
  if (config.redisUrl) return RedisTransport.create(config.redisUrl, logger);
  if (database.kind === 'postgres') return new PgTransport(database, logger);
  return new InProcessTransport();
}
