import type { TenantScope } from '../../shared/deps.js';
import { conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { conversationUpdatedEvent } from '../../events/live-events.js';
import { UsersRepository } from '../users/users.repository.js';
import type { ConversationStatus } from './conversation-status.js';
import { ConversationsRepository, type ConversationListFilter } from './conversations.repository.js';
import type { ConversationRow } from './conversations.schema.js';
import { decodeCursor, pageSize, toPage, type Page } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';

export interface ListConversationsArgs extends ConversationListFilter {
  first?: number | null;
  after?: string | null;
}

export class ConversationsService {
  private readonly conversations: ConversationsRepository;

  constructor(private readonly scope: TenantScope) {
    this.conversations = new ConversationsRepository(scope.deps.db, scope.tenantId);
  }

  async list(args: ListConversationsArgs): Promise<Page<ConversationRow>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, 'after');
    // An id that cannot exist matches nothing (and must not reach a uuid cast).
    if (args.assigneeId !== null && args.assigneeId !== undefined && !isUuid(args.assigneeId)) {
      return toPage([], limit, after !== null);
    }
    const rows = await this.conversations.list(limit, after, { status: args.status, assigneeId: args.assigneeId });
    return toPage(rows, limit, after !== null);
  }

  /** Another tenant's id reads as absent. */
  async get(id: string): Promise<ConversationRow | null> {
    return (await this.conversations.findById(id)) ?? null;
  }

  async assign(conversationId: string, assigneeId: string | null): Promise<ConversationRow> {
    if (assigneeId !== null) {
      // Only a user of this tenant; another tenant's user is as absent as a made-up id.
      const assignee = isUuid(assigneeId) ? await new UsersRepository(this.scope.deps.db, this.scope.tenantId).findById(assigneeId) : undefined;
      if (!assignee) throw notFound('User');
    }
    const row = await this.conversations.assign(conversationId, assigneeId);
    return this.updated(row);
  }

  async setStatus(conversationId: string, status: ConversationStatus): Promise<ConversationRow> {
    try {
      return this.updated(await this.conversations.setStatus(conversationId, status));
    } catch (err) {
      // Reopening a resolved conversation while the customer already has a newer live one.
      if (isUniqueViolation(err, 'conversations_live_uq')) {
        throw conflict('This contact already has an open conversation on this number');
      }
      throw err;
    }
  }

  async markRead(conversationId: string): Promise<ConversationRow> {
    return this.updated(await this.conversations.markRead(conversationId));
  }

  private updated(row: ConversationRow | undefined): ConversationRow {
    if (!row) throw notFound('Conversation');
    this.scope.deps.events.publish(conversationUpdatedEvent(row));
    return row;
  }
}
