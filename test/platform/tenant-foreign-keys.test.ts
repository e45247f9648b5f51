import { describe, expect, it } from 'vitest';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { messages } from '../../src/modules/messages/messages.schema.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let conversationOfA: string;

serverWithFakeTwilio({}, async (started) => {
  ({ server, fake } = started);
  a = await setUpInbox(server, fake, { tenantName: 'Tenant A' });
  b = await setUpInbox(server, fake, { tenantName: 'Tenant B' });
  conversationOfA = await customerTexts(server, a, randomUsNumber(), 'Hello A');
}, { resetFakeAfterEach: false });

/** The driver's error code, wherever drizzle wrapped it. */
function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

const row = (tenantId: string, conversationId: string, twilioAccountId: string) => ({
  tenantId,
  conversationId,
  twilioAccountId,
  direction: MessageDirection.INBOUND,
  body: 'planted',
  status: MessageStatus.RECEIVED,
  segments: 1,
});

describe('composite (tenant_id, id) foreign keys', () => {
  it("refuses, in the database, a message of tenant B in tenant A's conversation", async () => {
    const db = server.app.deps.db;
    const err = await db
      .insert(messages)
      .values(row(b.tenant.tenantId, conversationOfA, b.account.id))
      .then(() => null, (e: unknown) => e);
    // 23503: foreign_key_violation, raised by the database itself (no repository is involved).
    expect(pgCode(err)).toBe('23503');
  });

  it("refuses tenant A's message that names tenant B's Twilio account", async () => {
    const err = await server.app.deps.db
      .insert(messages)
      .values(row(a.tenant.tenantId, conversationOfA, b.account.id))
      .then(() => null, (e: unknown) => e);
    expect(pgCode(err)).toBe('23503');
  });

  it('accepts the same insert within one tenant (the refusal above is about the tenant)', async () => {
    const [inserted] = await server.app.deps.db
      .insert(messages)
      .values(row(a.tenant.tenantId, conversationOfA, a.account.id))
      .returning({ id: messages.id });
    expect(inserted?.id).toBeTruthy();
  });
});
