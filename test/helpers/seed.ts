import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { contacts } from '../../src/modules/contacts/contacts.schema.js';
import { conversations } from '../../src/modules/conversations/conversations.schema.js';
import { messages } from '../../src/modules/messages/messages.schema.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { randomUsNumber } from './inbox.js';

export interface SeededConversation {
  id: string;
  contactId: string;
  lastMessageId: string;
  /** Exact activity time as Postgres text (microseconds). */
  lastMessageAt: string;
}

/**
 * Bulk conversations straight into the database (pagination and N+1 tests need many; the API
 * would take a webhook each). Activity times are spread at microsecond steps with deliberate
 * ties, so a cursor that loses precision or ignores the id tie-break shows up.
 */
export async function seedConversations(
  db: Db,
  opts: { tenantId: string; phoneNumberId: string; twilioAccountId: string; count: number; assigneeId?: string | null; base?: Date },
): Promise<SeededConversation[]> {
  const base = (opts.base ?? new Date('2024-03-01T12:00:00Z')).getTime();
  const times = Array.from({ length: opts.count }, (_, i) => {
    // Every third conversation shares its time with the previous one; the rest differ by 1 µs.
    const micros = i - Math.floor(i / 3);
    return new Date(base + Math.floor(micros / 1000)).toISOString().replace(/Z$/, `${String(micros % 1000).padStart(3, '0')}Z`);
  });
  // Random numbers collide (2000 of 8 million did, one run in five): draw until distinct.
  const distinct = new Set<string>();
  while (distinct.size < opts.count) distinct.add(randomUsNumber('628'));
  const distinctNumbers = [...distinct];
  // Four multi-row statements, whatever the count.
  const contactRows = await db
    .insert(contacts)
    .values(times.map((_, i) => ({ tenantId: opts.tenantId, phoneNumber: distinctNumbers[i]!, name: `Customer ${i}` })))
    .returning({ id: contacts.id });
  const conversationRows = await db
    .insert(conversations)
    .values(
      times.map((ts, i) => ({
        tenantId: opts.tenantId,
        contactId: contactRows[i]!.id,
        phoneNumberId: opts.phoneNumberId,
        assigneeId: opts.assigneeId ?? null,
        unreadCount: 1,
        lastMessageAt: sql`${ts}::timestamptz`,
      })),
    )
    .returning({ id: conversations.id, contactId: conversations.contactId });
  const messageRows = await db
    .insert(messages)
    .values(
      times.map((ts, i) => ({
        tenantId: opts.tenantId,
        conversationId: conversationRows[i]!.id,
        twilioAccountId: opts.twilioAccountId,
        direction: MessageDirection.INBOUND,
        body: `Hello ${i}`,
        status: MessageStatus.RECEIVED,
        segments: 1,
        createdAt: sql`${ts}::timestamptz`,
      })),
    )
    .returning({ id: messages.id, conversationId: messages.conversationId });
  await db.execute(sql`update conversations c set last_message_id = m.id from messages m
    where m.conversation_id = c.id and c.id in (${sql.join(
      conversationRows.map((c) => sql`${c.id}::uuid`),
      sql`, `,
    )})`);
  const messageByConversation = new Map(messageRows.map((m) => [m.conversationId, m.id]));
  return conversationRows.map((c, i) => ({
    id: c.id,
    contactId: c.contactId,
    lastMessageId: messageByConversation.get(c.id)!,
    lastMessageAt: times[i]!,
  }));
}

/** Newest activity first, ties by id descending: the order the API promises. */
export function activityOrder(rows: SeededConversation[]): string[] {
  return [...rows]
    .sort((a, b) => (a.lastMessageAt === b.lastMessageAt ? (a.id < b.id ? 1 : -1) : a.lastMessageAt < b.lastMessageAt ? 1 : -1))
    .map((r) => r.id);
}
