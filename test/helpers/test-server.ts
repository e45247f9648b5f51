import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown }; path?: unknown[] }> | undefined;
}

export interface TestServer {
  app: RunningApp;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  database: TestDatabase;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  /** A graphql-ws client; `token` goes in connectionParams.authorization. */
  ws(token?: string | null, extra?: Partial<Parameters<typeof createClient>[0]>): Client;
  /** Stops the server; keeps the database unless `dropDatabase`. */
  close(opts?: { dropDatabase?: boolean }): Promise<void>;
}

/**
 * A real server on 127.0.0.1 with a random port, on the test database (PGlite in memory, or a
 * fresh Postgres database when TEST_DATABASE_URL is set). `env` overrides any setting; pass
 * `database` to start a second server (or a restart) on the same data.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  database?: TestDatabase,
): Promise<TestServer> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DISPATCHER_POLL_MS: '50',
    DISPATCHER_BACKOFF_BASE_MS: '20',
    DISPATCHER_BACKOFF_MAX_MS: '200',
    PACING_ENABLED: 'false',
    // Outgoing webhooks: the worker wakes when this instance queues; no 1 s polling into statement-counting tests.
    WEBHOOK_POLL_MS: '60000',
    // Routing's periodic sweep (one statement per interval) would blur tests that count statements;
    // the sweep at start still runs, and tests of the sweep set their own interval.
    ROUTING_SWEEP_INTERVAL_MS: '3600000',
    // Background automation polls (survey sweeper, openings watcher) stay out of statement counts;
    // the automation tests set their own.
    AUTOMATION_POLL_MS: '60000',
    // The search indexes' background merge (one statement a second) likewise; its own test sets it.
    SEARCH_INDEX_MERGE_MS: '0',
    FALLBACK_CACHE_REFRESH_MS: '600000',
    // The fake Twilio listens on loopback: tests opt in, as the sandbox does.
    OUTBOUND_ALLOW_PRIVATE: 'true',
    // Every tenant of a run signs up from this one address.
    SIGNUP_MAX_PER_ADDRESS: '100000',
    ...db.env,
    ...env,
  });
  const app = await startApp(config, { logger: createLogger(config.logLevel) });
  const graphqlUrl = `${app.url}/graphql`;
  const wsUrl = graphqlUrl.replace(/^http/, 'ws');
  const clients: Client[] = [];

  return {
    app,
    url: app.url,
    graphqlUrl,
    wsUrl,
    database: db,
    async gql(query, variables, token) {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const json = (await res.json()) as { data?: unknown; errors?: GqlResult['errors'] };
      return { status: res.status, data: (json.data ?? null) as never, errors: json.errors };
    },
    ws(token, extra = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: token === undefined || token === null ? {} : { authorization: `Bearer ${token}` },
        ...extra,
      });
      clients.push(client);
      return client;
    },
    async close(opts = {}) {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await app.close();
      if (opts.dropDatabase ?? true) await db.drop();
    },
  };
}

export function errorCode(result: GqlResult): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}
