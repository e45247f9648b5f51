import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { twilioErrorMessage } from '../../src/twilio/errors.js';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import { fakeSid, statusCallbackParams, type FakeTwilio } from '../helpers/fake-twilio.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';
import { postSignedForm, sendInbound, sendStatus } from '../helpers/twilio-setup.js';
import { EMPTY_TWIML, collectEvents, contactOf, dbOf, randomUsNumber, tenantWithNumber, type TenantWithNumber } from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;
let t: TenantWithNumber;

serverWithFakeTwilio({}, async (started) => {
  ({ server, fake } = started);
  t = await tenantWithNumber(server, fake);
}, { resetFakeAfterEach: false });

interface Outbound {
  id: string;
  conversationId: string;
  customer: string;
  sid: string;
}

/**
 * An outbound message as the sending side leaves it (QUEUED, maybe without Twilio's SID yet),
 * written directly: sending is another module's job.
 */
async function outbound(opts: { withSid?: boolean; on?: TenantWithNumber } = {}): Promise<Outbound> {
  const owner = opts.on ?? t;
  const customer = randomUsNumber();
  await sendInbound(server, owner.account, { from: customer, to: owner.number.e164, body: 'hi' });
  const contact = await contactOf(server, owner.tenant.tenantId, customer);
  const [conv] = await dbOf(server).query.conversations.findMany({ where: (c, { eq: e }) => e(c.contactId, contact!.id) });
  expect(conv).toBeDefined();
  const sid = fakeSid('SM');
  const [row] = await dbOf(server)
    .insert(messages)
    .values({
      tenantId: owner.tenant.tenantId,
      conversationId: conv!.id,
      twilioAccountId: owner.account.id,
      direction: MessageDirection.OUTBOUND,
      body: 'Your appointment is at 3pm',
      status: MessageStatus.QUEUED,
      segments: 1,
      twilioSid: opts.withSid ? sid : null,
    })
    .returning();
  return { id: row!.id, conversationId: conv!.id, customer, sid };
}

async function row(id: string) {
  const [m] = await dbOf(server).select().from(messages).where(eq(messages.id, id));
  return m!;
}

async function callback(m: Outbound, status: string, opts: { errorCode?: number; byId?: boolean; on?: TenantWithNumber } = {}) {
  const owner = opts.on ?? t;
  const res = await sendStatus(server, owner.account, {
    messageSid: m.sid,
    status,
    from: owner.number.e164,
    to: m.customer,
    ...(opts.errorCode !== undefined ? { errorCode: opts.errorCode } : {}),
    ...(opts.byId === false ? {} : { messageId: m.id }),
  });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(EMPTY_TWIML);
}

describe('status callbacks', () => {
  it('move forward only: delivered, then a late sent → stays DELIVERED', async () => {
    const m = await outbound();
    await callback(m, 'sending');
    expect((await row(m.id)).status).toBe('SENDING');
    await callback(m, 'delivered');
    await callback(m, 'sent');
    await callback(m, 'queued');
    const after = await row(m.id);
    expect(after.status).toBe('DELIVERED');
    // Matched by our id before we knew Twilio's SID: the SID is stored from the callback.
    expect(after.twilioSid).toBe(m.sid);
    await callback(m, 'read');
    expect((await row(m.id)).status).toBe('READ');
  });

  it('failed with 30003 → FAILED with the code and a human message; FAILED is final', async () => {
    const m = await outbound({ withSid: true });
    await callback(m, 'sent');
    await callback(m, 'failed', { errorCode: 30003 });
    const failed = await row(m.id);
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 30003, errorMessage: twilioErrorMessage(30003) });
    expect(failed.errorMessage).toMatch(/unreachable/);
    await callback(m, 'delivered');
    await callback(m, 'undelivered', { errorCode: 30005 });
    expect(await row(m.id)).toMatchObject({ status: 'FAILED', errorCode: 30003 });
  });

  it('undelivered with an unknown code keeps the code with a generic message', async () => {
    const m = await outbound({ withSid: true });
    await callback(m, 'undelivered', { errorCode: 30999, byId: false });
    expect(await row(m.id)).toMatchObject({ status: 'UNDELIVERED', errorCode: 30999, errorMessage: 'Twilio error 30999' });
  });

  it('matches by MessageSid alone when the URL carries no id', async () => {
    const m = await outbound({ withSid: true });
    await callback(m, 'sent', { byId: false });
    expect((await row(m.id)).status).toBe('SENT');
  });

  it('21610 marks the contact opted out', async () => {
    const m = await outbound({ withSid: true });
    expect((await contactOf(server, t.tenant.tenantId, m.customer))!.optedOut).toBe(false);
    await callback(m, 'failed', { errorCode: 21610 });
    expect(await row(m.id)).toMatchObject({ status: 'FAILED', errorCode: 21610 });
    expect((await contactOf(server, t.tenant.tenantId, m.customer))!.optedOut).toBe(true);
  });

  it('an unknown message → 200 and nothing changes', async () => {
    const m = await outbound({ withSid: true });
    const ghost = { ...m, id: '00000000-0000-4000-8000-000000000000', sid: fakeSid('SM') };
    await callback(ghost, 'delivered');
    await callback({ ...ghost, id: 'not-a-uuid' }, 'delivered');
    expect((await row(m.id)).status).toBe('QUEUED');
  });

  it("another tenant's account cannot touch the message, even knowing its id and SID", async () => {
    const other = await tenantWithNumber(server, fake);
    const m = await outbound({ withSid: true });
    await callback(m, 'failed', { errorCode: 30003, on: other });
    expect(await row(m.id)).toMatchObject({ status: MessageStatus.QUEUED, errorCode: null });
  });

  it('publishes messageUpdated only when something changed', async () => {
    const m = await outbound({ withSid: true });
    const live = collectEvents(server, t.tenant.tenantId, ['messageUpdated']);
    await callback(m, 'delivered');
    await callback(m, 'delivered');
    await callback(m, 'sent');
    await live.settle();
    await live.stop();
    expect(live.events).toEqual([{ type: 'messageUpdated', tenantId: t.tenant.tenantId, id: m.id, conversationId: m.conversationId }]);
  });

  it('refuses an unsigned callback (403) and a malformed one (400)', async () => {
    const m = await outbound({ withSid: true });
    const unsigned = await sendStatus(
      server,
      t.account,
      { messageSid: m.sid, status: 'delivered', from: t.number.e164, to: m.customer, messageId: m.id },
      { signature: null },
    );
    expect(unsigned.status).toBe(403);
    // Signed over the URL without our id, sent to the URL with it: the query string is signed too.
    const params = statusCallbackParams({ accountSid: t.account.accountSid, messageSid: m.sid, status: 'delivered', from: t.number.e164, to: m.customer });
    const stripped = await postSignedForm(server, `${t.account.statusCallbackUrl}?messageId=${m.id}`, t.account.authToken, params, {
      signature: computeTwilioSignature(t.account.authToken, t.account.statusCallbackUrl, params),
    });
    expect(stripped.status).toBe(403);
    const noStatus = await sendStatus(server, t.account, {
      messageSid: m.sid,
      status: 'delivered',
      from: t.number.e164,
      to: m.customer,
      extra: { MessageStatus: undefined, SmsStatus: undefined },
    });
    expect(noStatus.status).toBe(400);
    expect((await row(m.id)).status).toBe('QUEUED');
  });
});
