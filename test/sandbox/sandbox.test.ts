import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { createLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const root = resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

interface Running {
  app: RunningApp;
  sandbox: Sandbox;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data: T; errors?: { message: string }[] }>;
}

async function startSandboxServer(env: Record<string, string>): Promise<Running> {
  const config = loadConfig({ NODE_ENV: 'test', SANDBOX: 'true', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SANDBOX_FAILURE_PERCENT: '0', PACING_ENABLED: 'false', DISPATCHER_POLL_MS: '50', ...env });
  const sandbox = await startSandbox(config);
  const app = await startApp(config, { ...sandbox.startOptions, logger: createLogger('silent') });
  return {
    app,
    sandbox,
    async gql(query, variables = {}, token) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
  };
}

/** A database that outlives a server: a fresh Postgres database, or PGlite on disk. */
async function persistentDatabase(): Promise<{ env: Record<string, string> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sms-inbox-sandbox-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const database: TestDatabase = await createTestDatabase();
  cleanups.push(() => database.drop());
  return { env: database.kind === 'postgres' ? { ...database.env, DATA_DIR: dataDir } : { DATA_DIR: dataDir } };
}

async function logIn(s: Running, email: string, password: string): Promise<string> {
  const tenantSlug = ((await (await fetch(`${s.app.url}/sandbox/info`)).json()) as { tenantSlug: string }).tenantSlug;
  const r = await s.gql<{ logIn: { token: string } }>('mutation ($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email, password, tenantSlug } });
  expect(r.errors).toBeUndefined();
  return r.data.logIn.token;
}

describe('sandbox mode', () => {
  it('seeds a demo tenant once, on the simulator, and keeps working across a restart', async () => {
    const { env } = await persistentDatabase();
    const first = await startSandboxServer(env);
    let firstClosed = false;
    cleanups.push(() => (firstClosed ? undefined : first.app.close()));

    const users = await first.sandbox.seedIfEmpty(first.app.url);
    expect(users?.map((u) => [u.role, u.email])).toEqual([
      ['ADMIN', 'admin@demo.test'],
      ['AGENT', 'bo@demo.test'],
      ['AGENT', 'cy@demo.test'],
    ]);
    const admin = users![0]!;
    const token = await logIn(first, admin.email, admin.password);
    for (const agent of users!.slice(1)) await logIn(first, agent.email, agent.password);

    const accounts = await first.gql('{ twilioAccounts { sandbox apiBaseUrl phoneNumbers { e164 } } }', {}, token);
    expect(accounts.data.twilioAccounts).toEqual([
      { sandbox: true, apiBaseUrl: first.sandbox.simulator.url, phoneNumbers: [{ e164: '+15005550100' }, { e164: '+15005550101' }] },
    ]);
    const list = await first.gql(
      '{ conversations(first: 20) { edges { node { status labels team { name } contact { phoneNumber name } messages(first: 10) { edges { node { direction } } } } } } }',
      {},
      token,
    );
    // The demo customers' conversations; the seeded campaign's texts open conversations of their own.
    const demoCustomers = ['+14155550111', '+14155550122', '+14155550133'];
    const conversations = list.data.conversations.edges.map((e: any) => e.node).filter((c: any) => demoCustomers.includes(c.contact.phoneNumber));
    expect(conversations).toHaveLength(3);
    expect(conversations.map((c: any) => [c.contact.name, c.team?.name, c.labels]).sort()).toEqual([
      ['Jo Park', 'Front desk', ['new patient']],
      ['Maria Lopez', 'Front desk', ['booking']],
      ['Sam Chen', 'Billing', ['billing', 'urgent']],
    ]);
    const extras = await first.gql(
      '{ teams { name } operatingHours { name } quickReplies { title } campaigns(first: 5) { edges { node { name } } } phoneNumbers { e164 operatingHours { name } automatedMessages { trigger enabled } } }',
      {},
      token,
    );
    expect(extras.data.teams.map((t: any) => t.name)).toEqual(['Billing', 'Front desk']);
    expect(extras.data.operatingHours.map((h: any) => h.name)).toEqual(['Office hours']);
    expect(extras.data.quickReplies.length).toBeGreaterThanOrEqual(3);
    expect(extras.data.campaigns.edges.map((e: any) => e.node.name).sort()).toEqual(['Flu shot reminders', 'Spring cleaning check-ups']);
    expect(extras.data.phoneNumbers.find((n: any) => n.e164 === '+15005550101').operatingHours).toEqual({ name: 'Office hours' });
    expect(conversations.filter((c: any) => c.status === 'RESOLVED')).toHaveLength(1);
    expect(conversations.flatMap((c: any) => c.messages.edges.map((e: any) => e.node.direction))).toContain('OUTBOUND');

    // The seed's replies go out through the dispatcher and come back delivered from the simulator.
    await waitFor(
      async () => {
        const r = await fetch(`${first.app.url}/sandbox/phone?number=%2B14155550111`);
        const phone = (await r.json()) as { messages: { direction: string; status: string }[] };
        return phone.messages.some((m) => m.direction === 'received' && m.status === 'delivered');
      },
      { timeoutMs: 20_000, what: 'the seeded reply delivered' },
    );

    // The sign-in page's information: the credentials, the numbers.
    const info = await (await fetch(`${first.app.url}/sandbox/info`)).json();
    expect(info).toMatchObject({ tenantName: 'Demo Dental', users, demoNumbers: [{ e164: '+15005550100' }, { e164: '+15005550101' }] });
    expect(await first.sandbox.seedIfEmpty(first.app.url)).toBeNull();
    await first.app.close();
    firstClosed = true;

    // A restart: a new simulator (new port, empty memory) learns the account again.
    const second = await startSandboxServer(env);
    cleanups.push(() => second.app.close());
    expect(await second.sandbox.seedIfEmpty(second.app.url)).toBeNull();
    expect(second.sandbox.simulator.url).not.toBe(first.sandbox.simulator.url);
    const again = await second.gql('{ twilioAccounts { sandbox apiBaseUrl } }', {}, token);
    expect(again.data.twilioAccounts).toEqual([{ sandbox: true, apiBaseUrl: second.sandbox.simulator.url }]);
    expect(((await (await fetch(`${second.app.url}/sandbox/info`)).json()) as { users: unknown }).users).toEqual(users);

    const res = await fetch(`${second.app.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+1 (415) 555-0177', to: '+15005550101', body: 'After the restart' }),
    });
    expect(res.status).toBe(201);
    // The billing line answers by itself (closed hours or its queue), so the text may not be the last message.
    const after = await second.gql(
      '{ conversations(first: 10) { edges { node { contact { phoneNumber } messages(first: 5) { edges { node { direction body } } } } } } }',
      {},
      token,
    );
    const restarted = after.data.conversations.edges.map((e: any) => e.node).find((c: any) => c.contact.phoneNumber === '+14155550177');
    expect(restarted.messages.edges.map((e: any) => e.node)).toContainEqual({ direction: 'INBOUND', body: 'After the restart' });
  }, 420_000);

  it('POST /sandbox/inbound refuses bad input with a clear message and stores nothing', async () => {
    const s = await startSandboxServer((await persistentDatabase()).env);
    cleanups.push(() => s.app.close());
    const users = (await s.sandbox.seedIfEmpty(s.app.url))!;
    const token = await logIn(s, users[0]!.email, users[0]!.password);
    const count = async () => (await s.gql('{ conversations(first: 50, status: OPEN) { edges { node { id } } } }', {}, token)).data.conversations.edges.length;
    const before = await count();
    const post = (body: unknown) =>
      fetch(`${s.app.url}/sandbox/inbound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const cases: [unknown, RegExp][] = [
      [{ from: 'me', to: '+15005550100', body: 'x' }, /from must be a phone number/],
      [{ from: '+14155550188', to: '+15009990000', body: 'x' }, /not a demo number/],
      [{ from: '+14155550188', to: '+15005550100', body: 'x'.repeat(1601) }, /1,600/],
      [{ from: '+14155550188', to: '+15005550100', body: ' ' }, /body, media or both/],
      [{ from: '+14155550188', to: '+15005550100', body: 'x', media: [{ contentType: 'image/png' }] }, /contentType .* and dataBase64/],
      [{ from: '+14155550188', to: '+15005550100', body: 'x', media: Array.from({ length: 11 }, () => ({ contentType: 'image/png', dataBase64: 'AA==' })) }, /at most 10/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect(await count()).toBe(before);
    expect((await fetch(`${s.app.url}/sandbox/phone?number=nope`)).status).toBe(400);
  }, 240_000);

  it('does not exist outside sandbox mode, and is refused in production', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...database.env });
    const plain = await startApp(config, { logger: createLogger('silent') });
    cleanups.push(() => plain.close());
    expect((await fetch(`${plain.url}/sandbox/info`)).status).toBe(404);
    expect((await fetch(`${plain.url}/sandbox/inbound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await fetch(`${plain.url}/`)).status).toBe(200);

    const secrets = { JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(() => loadConfig({ NODE_ENV: 'production', SANDBOX: 'true', ...secrets })).toThrow(ConfigError);
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--sandbox'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'silent', ...secrets },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.stderr.on('data', (d) => (err += String(d)));
      child.on('exit', (c) => {
        clearTimeout(timer);
        done({ code: c, stderr: err });
      });
    });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Configuration error: SANDBOX=true is refused when NODE_ENV=production/);
  }, 420_000);
});
