import type { Db } from '../../db/client.js';
import type { TenantScope } from '../../shared/deps.js';
import { userIdOf } from '../../shared/principal.js';
import { DomainError, ErrorCode, badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { countSegments } from '../../twilio/segments.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import type { ConversationRow } from '../conversations/conversations.schema.js';
import { PhoneNumbersRepository } from '../phone-numbers/phone-numbers.repository.js';
import { conversationUpdatedEvent, messageAddedEvent } from '../../events/live-events.js';
import type { PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { MediaFilesRepository } from '../media-files/media-files.repository.js';
import { MAX_MEDIA, MAX_MEDIA_BYTES, normalizeRecipient, optionalIdempotencyKey, requireBody, requireMediaUrls } from './message-input.js';
import { MessagesRepository, type ThreadRows } from './messages.repository.js';
import type { KeysetCursor } from '../../graphql/pagination.js';
import type { ReplyOutcome } from './reply-batch.repository.js';
import type { MessageRow, StoredMedia } from './messages.schema.js';

export interface SendMessageArgs {
  conversationId: string;
  body: string;
  mediaUrls?: string[] | null;
  mediaIds?: string[] | null;
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

  /**
   * The thread view: a conversation the caller may see (as ConversationsService.get decides) with
   * one page of its messages, in one statement. Undefined where get() answers null.
   */
  thread(conversationId: string, limit: number, before: KeysetCursor | null): Promise<ThreadRows | undefined> {
    return this.messages.conversationWithPage(conversationId, this.scope.user, limit, before);
  }

  async send(args: SendMessageArgs): Promise<MessageRow> {
    const body = requireBody(args.body);
    const media = [...requireMediaUrls(args.mediaUrls), ...(await this.uploadedMedia(args.mediaIds))];
    if (media.length > MAX_MEDIA) throw badInput(`At most ${MAX_MEDIA} media per message (mediaUrls and mediaIds together)`, 'mediaIds');
    const idempotencyKey = optionalIdempotencyKey(args.idempotencyKey);
    // A repeat returns the first message even if things changed since (e.g. the contact opted out):
    // it is the same request, already accepted.
    if (idempotencyKey) {
      const first = await this.messages.findByIdempotencyKey(idempotencyKey);
      if (first) return sameRequestOrConflict(first, args.conversationId, body, media);
    }

    // One statement: the visibility rule (a conversation the caller may not see is NOT_FOUND),
    // the contact and number checks, and the writes (sendReplies, reply-batch.repository.ts).
    let outcome: ReplyOutcome;
    try {
      // Group-committed with other replies unless it carries a key (ReplyBatcher).
      outcome = await this.scope.deps.replies.send({
        tenantId: this.scope.tenantId,
        viewer: this.scope.user,
        values: {
          conversationId: args.conversationId,
          body,
          media,
          authorId: userIdOf(this.scope.user),
          segments: countSegments(body).segments,
          idempotencyKey,
        },
      });
    } catch (err) {
      // The same key sent twice at once: the other request won the unique index; answer its message.
      if (idempotencyKey && isUniqueViolation(err, 'messages_tenant_idempotency_uq')) {
        const first = await this.messages.findByIdempotencyKey(idempotencyKey);
        if (first) return sameRequestOrConflict(first, args.conversationId, body, media);
      }
      throw err;
    }
    switch (outcome.kind) {
      case 'not-found':
        throw notFound('Conversation');
      case 'opted-out':
        throw optedOut();
      case 'blocked':
        throw blocked();
      case 'number-removed':
        throw numberRemoved();
    }
    const { message } = outcome;
    this.afterCommit(message, { id: message.conversationId, tenantId: message.tenantId });
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

  /**
   * Files uploaded with POST /media, in the order given: each must be this tenant's, and together
   * at most Twilio's 5 MB. Sent through signed links made when the dispatcher sends.
   */
  private async uploadedMedia(ids: readonly string[] | null | undefined): Promise<StoredMedia[]> {
    if (!ids || ids.length === 0) return [];
    if (ids.length > MAX_MEDIA) throw badInput(`At most ${MAX_MEDIA} media per message`, 'mediaIds');
    const files = new Map((await new MediaFilesRepository(this.db, this.scope.tenantId).findInfos(ids)).map((f) => [f.id, f]));
    const unknown = ids.filter((id) => !files.has(id));
    if (unknown.length > 0) throw badInput(`Unknown media id(s): ${unknown.slice(0, 10).join(', ')}; upload files with POST /media first`, 'mediaIds');
    const total = ids.reduce((sum, id) => sum + files.get(id)!.size, 0);
    if (total > MAX_MEDIA_BYTES) {
      throw badInput(`The media of one message may total at most 5 MB (${MAX_MEDIA_BYTES} bytes); these total ${total}`, 'mediaIds');
    }
    return ids.map((id) => ({ url: `media-file:${id}`, contentType: files.get(id)!.contentType, fileId: id }));
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
      authorId: userIdOf(this.scope.user),
      segments: countSegments(body).segments,
      idempotencyKey,
    });
    await this.scope.deps.outbox.enqueue(tx, tenantId, message.id, number.id);
    await new ConversationsRepository(tx, tenantId).recordMessage(conversation.id, message.id, { authorId: userIdOf(this.scope.user) });
    return message;
  }

  /** Only once committed: live subscribers and the dispatcher must never see a rolled-back message. */
  private afterCommit(message: MessageRow, conversation: { id: string; tenantId: string }): void {
    this.scope.deps.events.publish(messageAddedEvent(message), conversationUpdatedEvent(conversation));
    this.scope.deps.outbox.notifyEnqueued();
  }
}

const numberRemoved = () => badInput('This phone number was removed; messages cannot be sent from it', 'phoneNumberId');

function assertCanSend(number: PhoneNumberRow): void {
  if (number.removedAt) throw numberRemoved();
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
