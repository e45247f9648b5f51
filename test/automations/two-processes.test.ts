import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from '../helpers/child-server.js';
import { fakeSid, inboundSmsParams, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTwoProcesses, type TwoProcesses } from '../helpers/two-processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Two server processes on one Postgres: each trigger event yields exactly one automated text,
 * whichever process gets Twilio's webhook (retried 5 times) and whichever dispatcher sends it.
 */
describe.skipIf(!usingPostgres)('automated messages with two server processes on one Postgres', () => {
  let set: TwoProcesses;
  // Short names for the set's parts, read once it is up.
  let fake: FakeTwilio;
  let sql: TwoProcesses['sql'];
  let one: ChildServer;
  let two: ChildServer;
  let token: string;
  let account: TwoProcesses['account'];
  let number: { id: string; e164: string };

  beforeAll(async () => {
    set = await startTwoProcesses({ tenantName: 'Twin Dental', env: { AUTOMATION_POLL_MS: '50' } });
    ({ fake, sql, one, two, token, account } = set);
    number = await set.addNumber();
    for (const [trigger, body] of [
      ['GREETING', 'Welcome to {{tenant.name}}'],
      ['RESOLVED', 'Glad we could help'],
      ['CSAT_SURVEY', 'Rate us 1-5'],
    ]) {
      const added = await two.gql(
        `mutation($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id } }`,
        { input: { phoneNumberId: number.id, trigger, body, enabled: true } },
        token,
      );
      if (added.errors) throw new Error(JSON.stringify(added.errors));
    }
  }, 240_000);

  afterAll(async () => {
    await set?.stop();
  });

  const sentTo = (to: string) => fake.messageRequests.filter((r) => r.status === 201 && r.params['To'] === to).map((r) => String(r.params['Body']));

  it('GREETING once for a first text retried 5 times across both; RESOLVED and the survey once; the rating lands once', async () => {
    const customer = randomUsNumber();
    const params = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: 'hi there', messageSid: fakeSid('SM') });
    const answers = await Promise.all([one, two, one, two, one].map((p) => p.postSigned(account.inboundWebhookUrl, account.authToken, params)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await waitFor(() => sentTo(customer).length >= 1, { timeoutMs: 20_000, what: 'the greeting' });

    const [conversation] = await sql<{ id: string }[]>`
      select c.id from conversations c join contacts ct on ct.id = c.contact_id where ct.phone_number = ${customer}`;
    // Both processes resolve at once: one resolution, one RESOLVED text, one survey.
    const resolved = await Promise.all(
      [one, two].map((p) =>
        p.gql(`mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { status } }`, { id: conversation!.id }, token),
      ),
    );
    expect(resolved.map((r) => r.data?.setConversationStatus?.status)).toEqual(['RESOLVED', 'RESOLVED']);
    await waitFor(() => sentTo(customer).length >= 3, { timeoutMs: 20_000, what: 'the RESOLVED text and the survey' });

    const rating = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: '4 stars', messageSid: fakeSid('SM') });
    await Promise.all([two, one, two, one, two].map((p) => p.postSigned(account.inboundWebhookUrl, account.authToken, rating)));
    const rated = await one.gql(`query($id: ID!) { conversation(id: $id) { status csatRating } }`, { id: conversation!.id }, token);
    expect(rated.data!.conversation).toEqual({ status: 'RESOLVED', csatRating: 4 });

    // Every automated message has left the outbox on one process or the other: nothing more will come.
    await waitFor(
      async () => (await sql`select 1 from messages where status in ('QUEUED', 'SENDING')`).length === 0,
      { timeoutMs: 20_000, what: 'the outbox to drain' },
    );
    expect(sentTo(customer)).toEqual(['Welcome to Twin Dental', 'Glad we could help', 'Rate us 1-5']);
    const [{ n }] = (await sql`select count(*)::int as n from messages where body = '4 stars'`) as unknown as [{ n: number }];
    expect(n).toBe(1);
  });
});
