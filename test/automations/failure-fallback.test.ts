import 'reflect-metadata';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { MessageDirection } from '../../src/modules/messages/message.enums.js';
import { inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { createTestDatabase, usingPostgres } from '../helpers/test-db.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { postSignedForm, sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { AUTOMATION_ENV, setAutomatedMessage } from './helpers.js';

let fake: FakeTwilio;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});
afterAll(async () => {
  await fake?.close();
});

const fallbackUrl = (inbox: Inbox) => inbox.account.inboundWebhookUrl.replace(/\/sms$/, '/fallback');

async function spoolDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fallback-spool-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function spooled(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.json'));
}

async function storedWithSid(server: TestServer, tenantId: string, sid: string) {
  return server.app.deps.db.select().from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.twilioSid, sid)));
}

/** Twilio's fallback call: the same parameters as the failed webhook plus ErrorCode and ErrorUrl. */
function callFallback(server: TestServer, inbox: Inbox, params: Record<string, string>) {
  return postSignedForm(server, fallbackUrl(inbox), inbox.account.authToken, {
    ...params,
    ErrorCode: '11200',
    ErrorUrl: inbox.account.inboundWebhookUrl,
  });
}

async function serverWithFailureText(env: Record<string, string> = {}, database?: Awaited<ReturnType<typeof createTestDatabase>>) {
  const dir = await spoolDir();
  const server = await startTestServer({ ...AUTOMATION_ENV, FALLBACK_SPOOL_DIR: dir, ...env }, database);
  cleanups.push(() => server.close());
  const inbox = await setUpInbox(server, fake, { tenantName: 'Acme Dental' });
  await setAutomatedMessage(server, inbox, 'FAILURE', 'Sorry, {{tenant.name}} cannot read your text right now; we will answer soon.');
  await server.app.deps.fallback.directory.refresh();
  return { server, inbox, dir };
}

const FAILURE_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Sorry, Acme Dental cannot read your text right now; we will answer soon.</Message></Response>';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

describe('the fallback URL', () => {
  it('answers the FAILURE text as TwiML, spools the message and stores it once (a repeated call included)', async () => {
    const { server, inbox, dir } = await serverWithFailureText();
    const params = inboundSmsParams({ accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164, body: 'Is the office open?' });
    const first = await callFallback(server, inbox, params);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await first.text()).toBe(FAILURE_TWIML);
    const again = await callFallback(server, inbox, params);
    expect(await again.text()).toBe(EMPTY_TWIML); // one FAILURE text per inbound text
    await waitFor(async () => (await storedWithSid(server, inbox.tenant.tenantId, params.MessageSid!)).length === 1 && (await spooled(dir)).length === 0, {
      timeoutMs: 30_000,
      what: 'the spooled message to be stored',
    });
    // The main webhook's own retry later: still one row.
    expect((await sendInbound(server, inbox.account, { from: params.From!, to: params.To!, body: params.Body!, messageSid: params.MessageSid })).status).toBe(200);
    expect(await storedWithSid(server, inbox.tenant.tenantId, params.MessageSid!)).toHaveLength(1);
  }, 120_000); // a server of its own on a shared, loaded machine

  it('never answers STOP or a text with OptOutType; refuses a bad signature and spools nothing then', async () => {
    const { server, inbox, dir } = await serverWithFailureText();
    const base = { accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164 };
    const stop = await callFallback(server, inbox, inboundSmsParams({ ...base, body: 'STOP' }));
    expect(await stop.text()).toBe(EMPTY_TWIML);
    const flagged = await callFallback(server, inbox, inboundSmsParams({ ...base, body: 'no more please', extra: { OptOutType: 'STOP' } }));
    expect(await flagged.text()).toBe(EMPTY_TWIML);
    const forged = await postSignedForm(server, fallbackUrl(inbox), inbox.account.authToken, inboundSmsParams({ ...base, body: 'hi' }), {
      signWith: 'not-the-token',
    });
    expect(forged.status).toBe(403);
    await waitFor(async () => (await spooled(dir)).length === 0, { timeoutMs: 30_000, what: 'the spool to drain' });
    const rows = await server.app.deps.db.select().from(messages).where(eq(messages.tenantId, inbox.tenant.tenantId));
    expect(rows.map((r) => r.body).sort()).toEqual(['STOP', 'no more please']);
  }, 240_000); // a server of its own on a shared, loaded machine
});

/**
 * A TCP proxy in front of Postgres that the test can cut: the server's database becomes
 * unreachable without touching the shared Postgres.
 */
async function startPostgresProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    down() {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    up() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.runIf(usingPostgres)('with the database unreachable (a TCP proxy in front of Postgres, cut)', () => {
  it('the webhook fails with 503, the fallback answers the FAILURE text from memory, and the message is stored exactly once when the database is back', async () => {
    const database = await createTestDatabase();
    const direct = new URL(database.env.DATABASE_URL!);
    const proxy = await startPostgresProxy(direct);
    cleanups.push(() => database.drop(), () => proxy.close());
    const proxied = new URL(direct);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const { server, inbox, dir } = await serverWithFailureText({ DATABASE_URL: proxied.toString(), DATABASE_POOL_SIZE: '3' }, { ...database, drop: async () => {} });

    const params = inboundSmsParams({ accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164, body: 'My tooth hurts' });
    proxy.down();
    const main = await sendInbound(server, inbox.account, { from: params.From!, to: params.To!, body: params.Body!, messageSid: params.MessageSid });
    expect(main.status).toBe(503);
    const answer = await callFallback(server, inbox, params);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(FAILURE_TWIML);
    expect(await spooled(dir)).toEqual([`${inbox.account.id}_${params.MessageSid}.json`]);
    // Twilio may call the fallback again for the same text: the spool holds it once.
    await callFallback(server, inbox, params);
    expect(await spooled(dir)).toHaveLength(1);

    proxy.up();
    await waitFor(async () => (await spooled(dir)).length === 0, { timeoutMs: 30_000, what: 'the spool to be ingested' });
    const rows = await storedWithSid(server, inbox.tenant.tenantId, params.MessageSid!);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ body: 'My tooth hurts', direction: 'INBOUND' });
    // Nothing automated answered it besides the FAILURE TwiML: no outbound message.
    const outbound = await server.app.deps.db.select().from(messages).where(and(eq(messages.tenantId, inbox.tenant.tenantId), eq(messages.direction, MessageDirection.OUTBOUND)));
    expect(outbound).toEqual([]);
  }, 240_000); // a server of its own on a shared, loaded machine
});

describe.runIf(usingPostgres)('two server instances on one database', () => {
  it("share the loop guard and the one-answer-per-text rule: a responder bot alternating between them gets the bound, not twice it", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const env = { AUTOMATION_MAX_PER_CONTACT_PER_HOUR: '3' };
    const shared = { ...database, drop: async () => {} }; // dropped once, above, after both servers closed
    const { server: one, inbox } = await serverWithFailureText(env, shared);
    const two = await startTestServer({ ...AUTOMATION_ENV, FALLBACK_SPOOL_DIR: await spoolDir(), ...env }, shared);
    cleanups.push(() => two.close());
    await two.app.deps.fallback.directory.refresh();
    // The account's URLs name the first instance; the same path on the second (Twilio signs what it calls).
    const onTwo: Inbox = {
      ...inbox,
      account: { ...inbox.account, inboundWebhookUrl: two.app.deps.config.publicUrl + new URL(inbox.account.inboundWebhookUrl).pathname },
    };

    // The same text offered to both instances (Twilio retrying the fallback): one answer.
    const first = inboundSmsParams({ accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164, body: 'hello?' });
    expect(await (await callFallback(one, inbox, first)).text()).toBe(FAILURE_TWIML);
    expect(await (await callFallback(two, onTwo, first)).text()).toBe(EMPTY_TWIML);

    // A responder bot texting back: 8 texts, alternately through each instance; 3 answers in all.
    const bot = randomUsNumber();
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) {
      const params = inboundSmsParams({ accountSid: inbox.account.accountSid, from: bot, to: inbox.number.e164, body: `auto-reply ${i}` });
      answers.push(await (i % 2 === 0 ? callFallback(one, inbox, params) : callFallback(two, onTwo, params)).then((r) => r.text()));
    }
    expect(answers.filter((a) => a === FAILURE_TWIML)).toHaveLength(3);
    expect(answers.slice(0, 3)).toEqual([FAILURE_TWIML, FAILURE_TWIML, FAILURE_TWIML]);
    expect(answers.slice(3).every((a) => a === EMPTY_TWIML)).toBe(true);
  }, 300_000);
});

describe.runIf(!usingPostgres)('with the database handle broken (PGlite)', () => {
  it('the webhook fails with 503, the fallback answers from memory, and the message is stored once when the handle works again', async () => {
    const { server, inbox, dir } = await serverWithFailureText();
    const deps = server.app.deps;
    const working = deps.db;
    // Every query through the app's handle fails as a lost connection would; the embedded
    // database itself cannot be taken away and given back.
    deps.db = new Proxy(working, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return () => {
          throw Object.assign(new Error('connection terminated (test)'), { code: '57P01' });
        };
      },
    });
    const params = inboundSmsParams({ accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164, body: 'Are you open?' });
    try {
      const main = await sendInbound(server, inbox.account, { from: params.From!, to: params.To!, body: params.Body!, messageSid: params.MessageSid });
      expect(main.status).toBe(503);
      const answer = await callFallback(server, inbox, params);
      expect(await answer.text()).toBe(FAILURE_TWIML);
      expect(await spooled(dir)).toEqual([`${inbox.account.id}_${params.MessageSid}.json`]);
    } finally {
      deps.db = working;
    }
    await waitFor(async () => (await spooled(dir)).length === 0, { timeoutMs: 30_000, what: 'the spool to be ingested' });
    expect(await storedWithSid(server, inbox.tenant.tenantId, params.MessageSid!)).toHaveLength(1);
  }, 240_000); // a server of its own on a shared, loaded machine
});
