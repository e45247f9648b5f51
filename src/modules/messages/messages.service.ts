import type { Db } from '../../db/client.js';
import type { TenantScope } from '../../shared/deps.js';
import { DomainError, ErrorCode, badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { countSegments } from '../../twilio/segments.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import type { ConversationRow } from '../conversations/conversations.schema.js';
import { PhoneNumbersRepository } from '../phone-numbers/phone-numbers.repository.js';
import { conversationUpdatedEvent, messageAddedEvent } from '../../events/live-events.js';
import type { PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { normalizeRecipient, optionalIdempotencyKey, requireBody, requireMediaUrls } from './message-input.js';
import { MessagesRepository } from './messages.repository.js';
import type { MessageRow, StoredMedia } from './messages.schema.js';

export interface SendMessageArgs {
  conversationId: string;
  body: string;
  mediaUrls?: string[] | null;
  idempotencyKey?: string | null;
}

export interface StartConversationArgs {
  phoneNumberId: string;
  to: string;
  body: string;
}

const optedOut = () =>
  new DomainError(ErrorCode.CONTACT_OPTED_OUT, 'The contact texted STOP; nothing can be sent until they text START');

const blocked = () => badInput('This contact is blocked; unblock them (updateContact) to text them', 'conversationId');

/** Agents' replies: validated, written with their outbox job in one transaction, sent by the dispatcher. */
export class MessagesService {
  private readonly messages: MessagesRepository;

  constructor(private readonly scope: TenantScope) {
    this.messages = new MessagesRepository(scope.deps.db, scope.tenantId);
  }

  private get db(): Db {
    return this.scope.deps.db;
  }

  async send(args: SendMessageArgs): Promise<MessageRow> {
    const body = requireBody(args.body);
    const media = requireMediaUrls(args.mediaUrls);
    const idempotencyKey = optionalIdempotencyKey(args.idempotencyKey);
    // A repeat returns the first message even if things changed since (e.g. the contact opted out):
    // it is the same request, already accepted.
    if (idempotencyKey) {
      const first = await this.messages.findByIdempotencyKey(idempotencyKey);
      if (first) return sameRequestOrConflict(first, args.conversationId, body, media);
    }

    // Visibility rule: a conversation the caller may not see is NOT_FOUND.
    const conversation = await new ConversationsRepository(this.db, this.scope.tenantId).findById(args.conversationId, this.scope.user);
    if (!conversation) throw notFound('Conversation');
    const [contact, number] = await Promise.all([
      new ContactsRepository(this.db, this.scope.tenantId).findById(conversation.contactId),
      new PhoneNumbersRepository(this.db, this.scope.tenantId).findById(conversation.phoneNumberId),
    ]);
    if (!contact || !number) throw new Error(`conversation ${conversation.id} points at a missing contact or number`);
    if (contact.optedOut) throw optedOut();
    if (contact.blocked) throw blocked();
    assertCanSend(number);

    let message: MessageRow;
    try {
      message = await this.db.transaction((tx) => this.enqueue(tx, conversation, number, body, media, idempotencyKey));
    } catch (err) {
      // The same key sent twice at once: the other request won the unique index; answer its message.
      if (idempotencyKey && isUniqueViolation(err, 'messages_tenant_idempotency_uq')) {
        const first = await this.messages.findByIdempotencyKey(idempotencyKey);
        if (first) return sameRequestOrConflict(first, args.conversationId, body, media);
      }
      throw err;
    }
    this.afterCommit(message, conversation);
    return message;
  }

  async startConversation(args: StartConversationArgs): Promise<ConversationRow> {
    const body = requireBody(args.body);
    const number = await new PhoneNumbersRepository(this.db, this.scope.tenantId).findById(args.phoneNumberId);
    if (!number) throw notFound('Phone number');
    assertCanSend(number);
    const to = normalizeRecipient(args.to, number.e164);
    if (to === number.e164) throw badInput('Cannot text our own number', 'to');

    const { conversation, message } = await this.db.transaction(async (tx) => {
      const contact: ContactRow = await new ContactsRepository(tx, this.scope.tenantId).upsertByPhone(to);
      if (contact.optedOut) throw optedOut(); // rolls the whole transaction back
      if (contact.blocked) throw blocked();
      const conversations = new ConversationsRepository(tx, this.scope.tenantId);
      // A conversation the agent starts is theirs, in the number's team (not routed to someone else).
      const conversation = await conversations.findOrOpen(number.id, contact.id, {
        teamId: number.teamId,
        assigneeId: this.scope.user.userId,
      });
      // The customer's live conversation may be one the caller may not see (another team's).
      if (!(await conversations.findById(conversation.id, this.scope.user))) throw notFound('Conversation');
      const message = await this.enqueue(tx, conversation, number, body, [], null);
      return { conversation, message };
    });
    this.afterCommit(message, conversation);
    // The row read inside the transaction predates the message; answer the current one.
    return (await new ConversationsRepository(this.db, this.scope.tenantId).findById(conversation.id)) ?? conversation;
  }

  /** Message, outbox job and the conversation's activity: all or nothing, in the caller's transaction. */
  private async enqueue(
    tx: Db,
    conversation: ConversationRow,
    number: PhoneNumberRow,
    body: string,
    media: StoredMedia[],
    idempotencyKey: string | null,
  ): Promise<MessageRow> {
    const tenantId = this.scope.tenantId;
    const message = await new MessagesRepository(tx, tenantId).insertOutbound({
      conversationId: conversation.id,
      twilioAccountId: number.twilioAccountId,
      body,
      media,
      authorId: this.scope.user.userId,
      segments: countSegments(body).segments,
      idempotencyKey,
    });
    await this.scope.deps.outbox.enqueue(tx, tenantId, message.id, number.id);
    await new ConversationsRepository(tx, tenantId).recordMessage(conversation.id, message.id);
    return message;
  }

  /** Only once committed: live subscribers and the dispatcher must never see a rolled-back message. */
  private afterCommit(message: MessageRow, conversation: ConversationRow): void {
    this.scope.deps.events.publish(messageAddedEvent(message), conversationUpdatedEvent(conversation));
    this.scope.deps.outbox.notifyEnqueued();
  }
}

function assertCanSend(number: PhoneNumberRow): void {
  if (number.removedAt) throw badInput('This phone number was removed; messages cannot be sent from it', 'phoneNumberId');
}

/**
 * A key names one request: its repeat gets the first message back; the same key with another
 * conversation, body or media is a client bug, and answering the first message would hand back
 * a message of another conversation (perhaps one the caller may not see).
 */
function sameRequestOrConflict(
  first: MessageRow,
  conversationId: string,
  body: string,
  media: ReadonlyArray<{ url: string }>,
): MessageRow {
  const sameMedia = first.media.length === media.length && first.media.every((m, i) => m.url === media[i]!.url);
  if (first.conversationId !== conversationId || first.body !== body || !sameMedia) {
    throw conflict('idempotencyKey was already used for a different message');
  }
  return first;
}
