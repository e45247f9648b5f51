import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { parseSearch } from '../../shared/search.js';
import { refuseNul } from '../../shared/text-input.js';
import { labelKey } from './inbox-filters.js';
import { conversationReassignedEvent, conversationUpdatedEvent } from '../../events/live-events.js';
import { UsersRepository } from '../users/users.repository.js';
import type { ConversationStatus } from './conversation-status.js';
import { ConversationsRepository, type ConversationListFilter, type Reassigned } from './conversations.repository.js';
import type { ConversationRow } from './conversations.schema.js';
import { decodeCursor, pageSize, toPage, type Page } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';

export interface ListConversationsArgs extends Omit<ConversationListFilter, 'search'> {
  first?: number | null;
  after?: string | null;
  /** Raw text as the client sent it (parseSearch: at least 2 characters). */
  search?: string | null;
}

/**
 * Every read and write here applies the visibility rule for the caller (see visibility.ts): a
 * conversation an AGENT may not see is as absent as another tenant's.
 */
export class ConversationsService {
  private readonly conversations: ConversationsRepository;

  constructor(private readonly scope: TenantScope) {
    this.conversations = new ConversationsRepository(scope.deps.db, scope.tenantId);
  }

  async list(args: ListConversationsArgs): Promise<Page<ConversationRow>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, 'after');
    // An id that cannot exist matches nothing (and must not reach a uuid cast).
    const search = parseSearch(args.search);
    if (args.label !== null && args.label !== undefined && labelKey(refuseNul(args.label, 'label')) === '') throw badInput('label cannot be blank', 'label');
    const ids = [args.assigneeId, args.teamId, args.phoneNumberId, args.contactId];
    if (ids.some((id) => id !== null && id !== undefined && !isUuid(id))) {
      return toPage([], limit, after !== null);
    }
    const rows = await this.conversations.list(
      limit,
      after,
      {
        status: args.status,
        assigneeId: args.assigneeId,
        teamId: args.teamId,
        unassigned: args.unassigned,
        phoneNumberId: args.phoneNumberId,
        search,
        label: args.label,
        contactId: args.contactId,
      },
      this.scope.user,
    );
    return toPage(rows, limit, after !== null);
  }

  /** Another tenant's id, or a conversation the caller may not see, reads as absent. */
  async get(id: string): Promise<ConversationRow | null> {
    return (await this.conversations.findById(id, this.scope.user)) ?? null;
  }

  /** The conversation if the caller may see it, else NOT_FOUND (for other modules: notes, labels...). */
  async require(id: string): Promise<ConversationRow> {
    const row = await this.get(id);
    if (!row) throw notFound('Conversation');
    return row;
  }

  /** A manual assignment: ignores capacity. Unassigning puts it back in its team's queue. */
  async assign(conversationId: string, assigneeId: string | null): Promise<ConversationRow> {
    if (assigneeId !== null) {
      // Only a user of this tenant; another tenant's user is as absent as a made-up id.
      const assignee = isUuid(assigneeId) ? await new UsersRepository(this.scope.deps.db, this.scope.tenantId).findById(assigneeId) : undefined;
      if (!assignee) throw notFound('User');
    }
    const result = await this.scope.deps.db.transaction((tx) =>
      new ConversationsRepository(tx, this.scope.tenantId).reassign(conversationId, { assigneeId }, this.scope.user),
    );
    return this.reassigned(result);
  }

  /** Publishes the change (with its previous holder) and lets routing use what it freed or queued. */
  async reassigned(result: Reassigned | undefined): Promise<ConversationRow> {
    if (!result) throw notFound('Conversation');
    this.scope.deps.events.publish(conversationReassignedEvent(result.row, result.previous));
    await this.scope.deps.routing.routeWaiting(this.scope.tenantId);
    return result.row;
  }

  async setStatus(conversationId: string, status: ConversationStatus): Promise<ConversationRow> {
    let row: ConversationRow | undefined;
    try {
      row = await this.conversations.setStatus(conversationId, status, this.scope.user);
    } catch (err) {
      // Reopening a resolved conversation while the customer already has a newer live one.
      if (isUniqueViolation(err, 'conversations_live_uq')) {
        throw conflict('This contact already has an open conversation on this number');
      }
      throw err;
    }
    const updated = this.updated(row);
    // Resolving frees capacity; reopening an unassigned one puts it back in its team's queue.
    await this.scope.deps.routing.routeWaiting(this.scope.tenantId);
    return updated;
  }

  async markRead(conversationId: string): Promise<ConversationRow> {
    return this.updated(await this.conversations.markRead(conversationId, this.scope.user));
  }

  private updated(row: ConversationRow | undefined): ConversationRow {
    if (!row) throw notFound('Conversation');
    this.scope.deps.events.publish(conversationUpdatedEvent(row));
    return row;
  }
}
