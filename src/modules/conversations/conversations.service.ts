import { userIdOf } from '../../shared/principal.js';
import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { parseSearch } from '../../shared/search.js';
import { refuseNul } from '../../shared/text-input.js';
import { labelKey } from './inbox-filters.js';
import { conversationReassignedEvent, conversationUpdatedEvent } from '../../events/live-events.js';
import { UsersRepository } from '../users/users.repository.js';
import { ConversationStatus } from './conversation-status.js';
import { ConversationsRepository, type ConversationListFilter, type ListJoin, type Reassigned } from './conversations.repository.js';
import type { ConversationChange } from '../../events/event-bus.js';
import { audit } from '../audit/audit.js';
import type { ConversationRow } from './conversations.schema.js';
import { decodeCursor, pageSize, toPage, type Page } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';

/** A page of conversations and the rows of its joins (join name → the rows found, at most one per conversation). */
export interface ConversationList extends Page<ConversationRow> {
  joined: Record<string, Array<Record<string, unknown>>>;
}

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

  /**
   * `joins`: rows of other tables to read with each conversation in the same statement (see
   * ListJoin); the page answers them in `joined`, by join name, for the caller's loaders.
   */
  async list(args: ListConversationsArgs, joins: readonly ListJoin[] = []): Promise<ConversationList> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, 'after');
    // An id that cannot exist matches nothing (and must not reach a uuid cast).
    const search = parseSearch(args.search);
    if (args.label !== null && args.label !== undefined && labelKey(refuseNul(args.label, 'label')) === '') throw badInput('label cannot be blank', 'label');
    const ids = [args.assigneeId, args.teamId, args.phoneNumberId, args.contactId];
    if (ids.some((id) => id !== null && id !== undefined && !isUuid(id))) {
      return { ...toPage([], limit, after !== null), joined: {} };
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
      joins,
    );
    const joined: ConversationList['joined'] = {};
    for (const join of joins) joined[join.name] = rows.slice(0, limit).flatMap((r) => (r.joined[join.name] ? [r.joined[join.name]!] : []));
    return { ...toPage(rows, limit, after !== null), joined };
  }

  /** Another tenant's id, or a conversation the caller may not see, reads as absent. */
  async get(id: string): Promise<ConversationRow | null> {
    return (await this.conversations.findById(id, this.scope.user)) ?? null;
  }

  /** A manual assignment: ignores capacity. Unassigning puts it back in its team's queue. */
  async assign(conversationId: string, assigneeId: string | null): Promise<ConversationRow> {
    if (assigneeId !== null) {
      // Only a user of this tenant; another tenant's user is as absent as a made-up id.
      const assignee = isUuid(assigneeId) ? await new UsersRepository(this.scope.deps.db, this.scope.tenantId).findById(assigneeId) : undefined;
      if (!assignee) throw notFound('User');
    }
    const result = await this.scope.deps.db.transaction(async (tx) => {
      const reassigned = await new ConversationsRepository(tx, this.scope.tenantId).reassign(conversationId, { assigneeId }, this.scope.user);
      if (reassigned) {
        await audit(this.scope).record(tx, {
          action: assigneeId === null ? 'conversation.unassign' : 'conversation.assign',
          targetType: 'conversation',
          targetId: reassigned.row.id,
        });
      }
      return reassigned;
    });
    return this.reassigned(result, assigneeId === null ? undefined : 'assigned');
  }

  /** Publishes the change (with its previous holder) and lets routing use what it freed or queued. */
  async reassigned(result: Reassigned | undefined, change?: ConversationChange): Promise<ConversationRow> {
    if (!result) throw notFound('Conversation');
    const event = conversationReassignedEvent(result.row, result.previous);
    if (change) event.change = change;
    this.scope.deps.events.publish(event);
    await this.scope.deps.routing.routeWaiting(this.scope.tenantId);
    return result.row;
  }

  async setStatus(conversationId: string, status: ConversationStatus): Promise<ConversationRow> {
    if (status === ConversationStatus.RESOLVED) return this.resolve(conversationId);
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

  /**
   * The move to RESOLVED and what it triggers (automated texts) commit together; resolving a
   * resolved conversation changes and triggers nothing.
   */
  private async resolve(conversationId: string): Promise<ConversationRow> {
    const { deps, tenantId, user } = this.scope;
    const { row, afterCommit } = await deps.db.transaction(async (tx) => {
      const moved = await new ConversationsRepository(tx, tenantId).resolve(conversationId, user);
      if (!moved) return { row: undefined, afterCommit: null };
      return { row: moved, afterCommit: await deps.automations.onResolved(tx, moved, userIdOf(user)) };
    });
    if (!row) {
      const current = await this.conversations.findById(conversationId, user);
      if (!current) throw notFound('Conversation');
      return current;
    }
    const updated = this.updated(row, 'resolved');
    afterCommit?.();
    // Resolving frees capacity: what waits in the team's queue may be assigned.
    await deps.routing.routeWaiting(tenantId);
    return updated;
  }

  async markRead(conversationId: string): Promise<ConversationRow> {
    return this.updated(await this.conversations.markRead(conversationId, this.scope.user));
  }

  private updated(row: ConversationRow | undefined, change?: ConversationChange): ConversationRow {
    if (!row) throw notFound('Conversation');
    this.scope.deps.events.publish(conversationUpdatedEvent(row, change));
    return row;
  }
}
