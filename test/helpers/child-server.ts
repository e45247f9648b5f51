import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import type { FormParams } from './fake-twilio.js';
import type { GqlResult } from './test-server.js';

const ENTRY = resolve(import.meta.dirname, 'server-process.ts');
const ROOT = resolve(import.meta.dirname, '../..');

/** Settings every process of one test shares, so a token or a webhook signed for one works on all. */
export function sharedEnv(databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
    PORT: '0',
    HOST: '127.0.0.1',
    // Advertised base of every webhook URL; only signatures depend on it, nothing calls it.
    PUBLIC_URL: 'http://sms-inbox.test',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    PACING_ENABLED: 'false',
    // The fake Twilio listens on loopback.
    OUTBOUND_ALLOW_PRIVATE: 'true',
    // Every tenant of a run signs up from this one address.
    SIGNUP_MAX_PER_ADDRESS: '100000',
    DISPATCHER_POLL_MS: '50',
    DISPATCHER_BACKOFF_BASE_MS: '20',
    DISPATCHER_BACKOFF_MAX_MS: '200',
  };
}

export interface ChildServer {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Everything the process printed (logs), for failure messages. */
  output(): string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  ws(token: string): Client;
  /** POSTs a form signed over the advertised URL (PUBLIC_URL + path) to this process. */
  postSigned(advertisedUrl: string, authToken: string, params: FormParams): Promise<Response>;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing cleaned up. */
  kill(): Promise<void>;
}

export async function startChildServer(env: Record<string, string>, startTimeoutMs = 30_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const clients: Client[] = [];
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  const ready = await new Promise<{ url: string; pid: number }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server process did not start in ${startTimeoutMs} ms:\n${out}`)), startTimeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.startsWith('{"ready":true')) continue;
        clearTimeout(timer);
        res(JSON.parse(line) as { url: string; pid: number });
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server process exited with ${code}:\n${out}`));
    });
  });

  const url = ready.url;
  const closeClients = () => Promise.allSettled(clients.map((c) => c.dispose()));
  return {
    url,
    pid: ready.pid,
    process: child,
    output: () => out,
    async gql(query, variables, token) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const json = (await res.json()) as { data?: unknown; errors?: GqlResult['errors'] };
      return { status: res.status, data: (json.data ?? null) as never, errors: json.errors };
    },
    ws(token) {
      const client = createClient({
        url: `${url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: { authorization: `Bearer ${token}` },
      });
      clients.push(client);
      return client;
    },
    postSigned(advertisedUrl, authToken, params) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
      const local = url + advertisedUrl.slice(new URL(advertisedUrl).origin.length);
      return fetch(local, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': computeTwilioSignature(authToken, advertisedUrl, params),
        },
        body: body.toString(),
      });
    },
    async stop() {
      await closeClients();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await closeClients();
    },
  };
}
