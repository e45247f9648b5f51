import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { migrateDatabase, openDatabase, type Database } from './db/client.js';
import { EventBus, InProcessTransport } from './events/event-bus.js';
import { buildAppSchema } from './graphql/schema.js';
import { createHttpServer } from './http/server.js';
import { TokenService } from './modules/users/tokens.js';
import type { AppDeps } from './shared/deps.js';
import { createLogger, type Logger } from './shared/logger.js';
import { LoginLimiter } from './shared/login-limiter.js';
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
export async function startApp(config: Config, options: StartOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database: Database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    logger,
  });
  try {
    await migrateDatabase(database);
  } catch (err) {
    await database.close();
    throw err;
  }

  const events = new EventBus(new InProcessTransport(), logger);
  await events.start();

  const deps: AppDeps = {
    config,
    database,
    db: database.db,
    logger,
    secretBox: new SecretBox(config.encryptionKey),
    events,
    tokens: new TokenService(config.jwtSecret, config.jwtExpiresInSeconds),
    loginLimiter: new LoginLimiter(config.login.maxFailures, config.login.windowSeconds),
    twilio: options.twilio ?? ((creds) => createTwilioApi(creds, { timeoutMs: config.twilioTimeoutMs })),
  };

  const schema = await buildAppSchema();
  const { app, graphql } = await createHttpServer(deps, schema);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const listenHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${listenHost === '0.0.0.0' || listenHost === '[::]' ? '127.0.0.1' : listenHost}:${address.port}`;
  // Without PUBLIC_URL the advertised base follows the port actually bound (PORT=0 in tests).
  if (!config.publicUrlExplicit) config.publicUrl = `http://localhost:${address.port}`;
  logger.info({ url, publicUrl: config.publicUrl, database: database.kind, events: events.transportName }, 'server listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await graphql.closeSockets();
      await app.close();
      await events.close();
      await database.close();
      logger.info('server stopped');
    })());

  return { url, deps, close };
}
