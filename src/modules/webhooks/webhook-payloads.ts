import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { contacts } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { MessageDirection } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';

/**
 * The `data` of each event: ids and the fields a consumer needs, never tokens or secrets.
 * Media are our own signed, short-lived links (Twilio's URLs need the account's credentials).
 */
const conversationColumns = {
  id: conversations.id,
  status: conversations.status,
  assigneeId: conversations.assigneeId,
  contactId: conversations.contactId,
  phoneNumberId: conversations.phoneNumberId,
  createdAt: conversations.createdAt,
  lastMessageAt: conversations.lastMessageAt,
  contactPhoneNumber: contacts.phoneNumber,
  contactName: contacts.name,
  ourNumber: phoneNumbers.e164,
};

type ConversationView = { [K in keyof typeof conversationColumns]: (typeof conversationColumns)[K]['_']['data'] | null };

function conversationData(c: ConversationView) {
  return {
    id: c.id,
    status: c.status,
    assigneeId: c.assigneeId,
    contact: { id: c.contactId, phoneNumber: c.contactPhoneNumber, name: c.contactName },
    phoneNumber: { id: c.phoneNumberId, e164: c.ourNumber },
    createdAt: c.createdAt,
    lastMessageAt: c.lastMessageAt,
  };
}

/** `db`: the converting transaction (deps.db by default). */
export async function messagePayload(deps: AppDeps, tenantId: string, messageId: string, db: Db = deps.db) {
  const [row] = await db
    .select({
      message: {
        id: messages.id,
        conversationId: messages.conversationId,
        direction: messages.direction,
        body: messages.body,
        media: messages.media,
        status: messages.status,
        source: messages.source,
        twilioSid: messages.twilioSid,
        errorCode: messages.errorCode,
        errorMessage: messages.errorMessage,
        authorId: messages.authorId,
        segments: messages.segments,
        createdAt: messages.createdAt,
      },
      conversation: conversationColumns,
    })
    .from(messages)
    .innerJoin(conversations, and(eq(conversations.tenantId, messages.tenantId), eq(conversations.id, messages.conversationId)))
    .innerJoin(contacts, and(eq(contacts.tenantId, conversations.tenantId), eq(contacts.id, conversations.contactId)))
    .innerJoin(phoneNumbers, and(eq(phoneNumbers.tenantId, conversations.tenantId), eq(phoneNumbers.id, conversations.phoneNumberId)))
    .where(and(eq(messages.tenantId, tenantId), eq(messages.id, messageId)))
    .limit(1);
  if (!row) return null;
  const { media, ...message } = row.message;
  const inbound = message.direction === MessageDirection.INBOUND;
  const contactNumber = row.conversation.contactPhoneNumber;
  const ourNumber = row.conversation.ourNumber;
  return {
    direction: message.direction,
    data: {
      message: {
        ...message,
        from: inbound ? contactNumber : ourNumber,
        to: inbound ? ourNumber : contactNumber,
        media: media.map((m, index) => ({
          contentType: m.contentType,
          url: inbound ? deps.mediaLinks.sign(deps.config.publicUrl, { tenantId, messageId, index }) : m.url,
        })),
      },
      conversation: conversationData(row.conversation),
    },
  };
}

export async function conversationPayload(deps: AppDeps, tenantId: string, conversationId: string, db: Db = deps.db) {
  const [row] = await db
    .select(conversationColumns)
    .from(conversations)
    .innerJoin(contacts, and(eq(contacts.tenantId, conversations.tenantId), eq(contacts.id, conversations.contactId)))
    .innerJoin(phoneNumbers, and(eq(phoneNumbers.tenantId, conversations.tenantId), eq(phoneNumbers.id, conversations.phoneNumberId)))
    .where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId)))
    .limit(1);
  return row ? { conversation: conversationData(row) } : null;
}
