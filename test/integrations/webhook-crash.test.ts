import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundSmsParams } from '../helpers/fake-twilio.js';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTwoProcesses, type TwoProcesses } from '../helpers/two-processes.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Outgoing webhooks are at least once across a crash: an inbound text answered 200 is announced
 * even when the process dies before any delivery row was written. The delivery table is locked
 * (EXCLUSIVE, from the test's own connection) while the text arrives, so no process can write or
 * claim a delivery; the process is then killed (SIGKILL), the lock released, and a new process on
 * the same database must still deliver MESSAGE_RECEIVED. With deliveries written after the commit
 * from memory, the event was lost with the process.
 *
 * Postgres only (TEST_DATABASE_URL): it needs separate server processes on one database.
 */
describe.skipIf(!usingPostgres)('webhook events survive a crash after the commit (two processes on one Postgres)', () => {
  let set: TwoProcesses;
  let receiver: WebhookReceiver;
  let third: ChildServer | undefined;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    set = await startTwoProcesses({
      tenantName: 'Crash Co',
      env: { WEBHOOK_ENDPOINTS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50', WEBHOOK_BACKOFF_BASE_MS: '30', WEBHOOK_BACKOFF_MAX_MS: '100', DISPATCHER_ENABLED: 'false' },
    });
  }, 240_000);

  afterAll(async () => {
    await third?.stop();
    await set?.stop();
    await receiver?.close();
  });

  it('MESSAGE_RECEIVED is delivered once, signed, by a new process after the first was killed', async () => {
    const { one, two, token, account } = set;
    const number = await set.addNumber();
    const created = await one.gql<{ createWebhookEndpoint: { signingSecret: string } }>(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { signingSecret endpoint { id } } }`,
      { input: { url: receiver.url, events: ['MESSAGE_RECEIVED'] } },
      token,
    );
    expect(created.errors).toBeUndefined();
    const { signingSecret } = created.data!.createWebhookEndpoint;

    // Nobody may write or claim a delivery while this transaction holds the lock.
    const locked = set.sql.reserve();
    const conn = await locked;
    await conn`begin`;
    await conn`lock table webhook_deliveries in exclusive mode`;
    let lockHeld = true;
    try {
      const customer = randomUsNumber();
      const params = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: 'Survive the crash' });
      const res = await one.postSigned(account.inboundWebhookUrl, account.authToken, params);
      expect(res.status).toBe(200);
      // The text is committed (the 200 says so); the announcement must be too, before any delivery.
      const [stored] = await set.sql`select count(*)::int as n from messages where body = 'Survive the crash'`;
      expect(stored!.n).toBe(1);

      await Promise.all([one.kill(), two.kill()]);
      await conn`rollback`;
      lockHeld = false;
    } finally {
      if (lockHeld) await conn`rollback`.catch(() => {});
      conn.release();
    }
    expect(receiver.received).toHaveLength(0);

    third = await startChildServer(set.env, 120_000);
    await waitFor(() => receiver.received.some((x) => x.status === 200), { timeoutMs: 20_000, what: 'the MESSAGE_RECEIVED delivery after the restart' });
    // Delivered: nothing more goes out for it (a second delivery would be a new webhook-id).
    await waitFor(async () => {
      const [row] = await set.sql`select count(*)::int as n from webhook_deliveries where status = 'DELIVERED'`;
      return row!.n === 1;
    }, { what: 'the delivery recorded' });
    expect(receiver.received).toHaveLength(1);
    const [req] = receiver.received;
    const verified = new Webhook(signingSecret).verify(req!.body, req!.headers as Record<string, string>) as { type: string; data: any };
    expect(verified.type).toBe('MESSAGE_RECEIVED');
    expect(verified.data.message).toMatchObject({ body: 'Survive the crash', direction: 'INBOUND', to: number.e164 });
  });
});
