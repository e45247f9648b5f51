import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages, users } from '../../src/db/schema.js';
import { createLogger } from '../../src/shared/logger.js';
import { signUpTenant, uniqueEmail } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';

let server: TestServer;
let fake: FakeTwilio;
beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

describe('NUL characters', () => {
  it('in any GraphQL input (variables at any depth, document literals) → BAD_USER_INPUT, nothing stored', async () => {
    const email = uniqueEmail('nul');
    const viaVariables = await server.gql('mutation($input: SignUpInput!) { signUp(input: $input) { token } }', {
      input: { tenantName: 'Nul\u0000Co', name: 'N', email, password: 'long enough pw' },
    });
    expect(viaVariables.status).toBeLessThan(500);
    expect(errorCode(viaVariables)).toBe('BAD_USER_INPUT');
    const viaLiteral = await server.gql(
      `mutation { signUp(input: { tenantName: "Nul\\u0000Co", name: "N", email: "${email}", password: "long enough pw" }) { token } }`,
    );
    expect(errorCode(viaLiteral)).toBe('BAD_USER_INPUT');
    // The same text again is the same parsed document (Apollo's document store): still refused.
    const again = await server.gql(
      `mutation { signUp(input: { tenantName: "Nul\\u0000Co", name: "N", email: "${email}", password: "long enough pw" }) { token } }`,
    );
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(await server.app.deps.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);

    const inbox = await setUpInbox(server, fake);
    const conversationId = await customerTexts(server, inbox, randomUsNumber(), 'hi');
    const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
    // A document already seen clean still has its variables checked on every request.
    const clean = await server.gql(SEND, { input: { conversationId, body: 'fine' } }, inbox.tenant.token);
    expect(clean.errors).toBeUndefined();
    for (const input of [
      { conversationId, body: 'a\u0000b' },
      { conversationId, body: 'fine', idempotencyKey: 'key\u0000' },
      { conversationId, body: 'fine', mediaUrls: ['https://example.com/\u0000.png'] },
    ]) {
      const res = await server.gql(SEND, { input }, inbox.tenant.token);
      expect(errorCode(res), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
  });

  it('in a signed webhook: answered 200 and stored with the character replaced (never a 503 Twilio would retry)', async () => {
    const inbox = await setUpInbox(server, fake);
    const sid = fakeSid('SM');
    const res = await sendInbound(server, inbox.account, { from: randomUsNumber(), to: inbox.number.e164, body: 'bad\u0000byte', messageSid: sid });
    expect(res.status).toBe(200);
    const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.twilioSid, sid));
    expect(row!.body).toBe('bad\uFFFDbyte');
  });
});

describe('database errors in logs', () => {
  it('never contain the failed query’s parameters', async () => {
    const t = await signUpTenant(server);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('info', sink);
    const secret = 'scrypt$SECRET-HASH-VALUE';
    let failure: unknown;
    try {
      // A duplicate email in one tenant: a real unique violation carrying the row's values.
      await server.app.deps.db.insert(users).values({ tenantId: t.tenantId, email: t.email, name: 'Dup', role: 'AGENT' as never, passwordHash: secret });
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeDefined();
    expect(String((failure as Error).message)).toContain(secret); // what drizzle puts in the message
    logger.error({ err: failure }, 'statement failed');
    await new Promise((r) => setImmediate(r));
    const logged = lines.join('');
    expect(logged).toContain('statement failed');
    expect(logged).toContain('Failed query');
    expect(logged).not.toContain('SECRET-HASH-VALUE');
    expect(logged).not.toContain(t.email);
  });
});
