import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { refuseNul } from '../../shared/text-input.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { conversationUpdatedEvent } from '../../events/live-events.js';
import { NotesRepository } from './notes.repository.js';
import type { NoteRow } from './notes.schema.js';

export const MAX_NOTE_LENGTH = 5000;

/** Internal notes: never sent, never counted in segments, unread counts or automations. */
export class NotesService {
  constructor(private readonly scope: TenantScope) {}

  /** The caller is the author; publishes conversationUpdated. */
  async add(conversationId: string, rawBody: string): Promise<NoteRow> {
    const body = refuseNul(rawBody, 'body').trim();
    if (body.length === 0) throw badInput('A note cannot be empty', 'body');
    if (body.length > MAX_NOTE_LENGTH) throw badInput(`A note may have at most ${MAX_NOTE_LENGTH} characters`, 'body');
    // Through the conversations service: a conversation the caller may not see is NOT_FOUND.
    const conversation = await new ConversationsService(this.scope).get(conversationId);
    if (!conversation) throw notFound('Conversation');
    const { tenantId } = this.scope;
    const { note, updated } = await this.scope.deps.db.transaction(async (tx) => {
      const note = await new NotesRepository(tx, tenantId).insert({ conversationId: conversation.id, authorId: this.scope.user.userId, body });
      const updated = await new ConversationsRepository(tx, tenantId).touch(conversation.id);
      return { note, updated };
    });
    this.scope.deps.events.publish(conversationUpdatedEvent(updated ?? conversation));
    return note;
  }
}
