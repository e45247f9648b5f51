/**
 * INGEST_BATCH_MAX=1 turns group commit off: each webhook is stored by itself, by the same
 * statement with one row (src/modules/inbound/ingest-batcher.ts, `alone`). Through the real
 * server: stored, a Twilio retry stored nothing twice, a text to a number not ours stored
 * nothing, and no batch formed (/metrics).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages, unroutedMessages } from '../../src/db/schema.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { EMPTY_TWIML, contactOf, conversationsOf, dbOf, randomUsNumber, tenantWithNumber } from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;
beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false', MEDIA_COPY_ENABLED: 'false', INGEST_BATCH_MAX: '1' }), startFakeTwilio()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

async function batchesObserved(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^inbound_batch_size_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('inbound texts with group commit off (INGEST_BATCH_MAX=1)', () => {
  it('stores each text by itself: once despite a retry, nothing for a number not ours, no batch', async () => {
    const t = await tenantWithNumber(server, fake);
    const from = randomUsNumber();
    const sid = fakeSid('SM');
    const unknownSid = fakeSid('SM');
    const answers = await Promise.all([
      sendInbound(server, t.account, { from, to: t.number.e164, body: 'hello', messageSid: sid }),
      sendInbound(server, t.account, { from, to: t.number.e164, body: 'hello', messageSid: sid }),
      sendInbound(server, t.account, { from: randomUsNumber(), to: randomUsNumber('212'), body: 'not ours', messageSid: unknownSid }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
    }
    const stored = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
    expect(stored).toHaveLength(1);
    const contact = (await contactOf(server, t.tenant.tenantId, from))!;
    const [conversation] = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact.id);
    expect(conversation).toMatchObject({ id: stored[0]!.conversationId, status: 'OPEN', unreadCount: 1, lastMessageId: stored[0]!.id });
    expect(await dbOf(server).select().from(messages).where(eq(messages.twilioSid, unknownSid))).toEqual([]);
    expect(await dbOf(server).select().from(unroutedMessages).where(eq(unroutedMessages.twilioSid, unknownSid))).toHaveLength(1);
    expect(await batchesObserved()).toBe(0);
  });
});
