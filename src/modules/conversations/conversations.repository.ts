import { and, desc, eq, getTableColumns, inArray, isNotNull, isNull, lte, ne, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { rowsOf } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { ConversationStatus } from './conversation-status.js';
import { conversations, type ConversationRow } from './conversations.schema.js';
import { conversationById, recordMessageSet } from './conversations.sql.js';
import { allColumns, builtOnce, setClauses, tableRow } from '../../db/sql.js';
import { contacts } from '../contacts/contacts.schema.js';
import { recordContactActivity } from '../contacts/contacts.sql.js';
import { cursorText, MAX_PAGE_SIZE, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';
import { agentVisibility, seesEveryConversation, visibilityShape, visibleTo, type Viewer, type VisibilityShape } from './visibility.js';
import { inboxFilterConditions, type InboxFilter } from './inbox-filters.js';
import { recordWebhookEvents } from '../webhook-events/webhook-events.sql.js';

export interface ConversationListFilter extends InboxFilter {
  status?: ConversationStatus | null;
  assigneeId?: string | null;
  // Routing filters (ids already checked to be uuids by the service).
  teamId?: string | null;
  /** true: no assignee; false: someone assigned. */
  unassigned?: boolean | null;
  phoneNumberId?: string | null;
}

/** An assignment or team change, with who held the conversation before (for conversationRemoved). */
export interface Reassigned {
  row: ConversationRow;
  previous: { teamId: string | null; assigneeId: string | null };
}

export interface ConversationListRow {
  row: ConversationRow;
  id: string;
  /** lastMessageAt as exact cursor text. */
  cursorTs: string;
  /** The rows of the list's joins (ListJoin.name → the row, or null when there is none). */
  joined: Record<string, Record<string, unknown> | null>;
}

/**
 * Another table's row read with each conversation of a list page, in the page's own statement: a
 * left join on the tenant and the row's id (`table` has tenant_id and id, like every tenant table).
 * The caller (the module that owns the field, e.g. the inbox's `conversations` query) names the
 * joins its selection needs and primes its loaders from them: one statement a page instead of one
 * per relation (issue 16; per-statement work was ~60% of the list's Postgres time).
 */
export interface ListJoin {
  /** Names the join in the statement and in ConversationListRow.joined; a plain identifier. */
  name: string;
  table: PgTable;
  /** The conversation's column holding the row's id. */
  via: PgColumn;
}

export class ConversationsRepository extends TenantRepository {
  /** Most recent activity first; `limit + 1` rows so the caller knows whether there is more. */
  async list(
    limit: number,
    after: KeysetCursor | null,
    filter: ConversationListFilter = {},
    viewer?: Viewer,
    joins: readonly ListJoin[] = [],
  ): Promise<ConversationListRow[]> {
    const values: Record<ListParam, unknown> = {
      tenantId: this.tenantId,
      userId: viewer?.userId ?? null,
      afterTs: after?.ts ?? null,
      afterId: after?.id ?? null,
    };
    const shape = { agent: !seesEveryConversation(viewer), after: after !== null, rows: limit + 1 };
    // No filter (the inbox as it opens, page after page): one of four statements built once.
    const unfiltered = Object.values(filter).every((v) => v === null || v === undefined);
    const statement = unfiltered ? usualListStatement(shape, joins)(values) : withJoins(listStatement(values, shape, filter), joins);
    const rows = rowsOf<Record<string, unknown>>(await this.db.execute(statement));
    const named = joins.map((join) => ({ ...join, ...joinColumnNames(join) }));
    return rows.map((r) => {
      const row = tableRow(conversations, r);
      const joined: ConversationListRow['joined'] = {};
      for (const join of named) joined[join.name] = r[join.idColumn] === null ? null : tableRow(join.table, r, join.prefix);
      return { row, id: row.id, cursorTs: r.cursorTs as string, joined };
    });
  }

  /**
   * Contact.conversations of many contacts in one statement (a DataLoader's batch): each contact's
   * first `limit + 1` conversations the viewer may see, most recent activity first, with the
   * list's rules (a blocked contact's are absent). Rows come grouped by contact.
   */
  async pagesByContact(contactIds: readonly string[], limit: number, after: KeysetCursor | null, viewer?: Viewer): Promise<ConversationListRow[]> {
    const ids = contactIds.filter(isUuid);
    if (ids.length === 0) return [];
    const ranked = this.db
      .select({
        id: conversations.id,
        rn: sql<number>`row_number() over (partition by ${conversations.contactId} order by ${conversations.lastMessageAt} desc, ${conversations.id} desc)`.as('rn'),
      })
      .from(conversations)
      .where(
        this.scoped(
          conversations,
          inArray(conversations.contactId, ids),
          visibleTo(this.tenantId, viewer),
          after ? olderThan(conversations.lastMessageAt, conversations.id, after) : undefined,
          ...inboxFilterConditions(this.tenantId, {}),
        ),
      )
      .as('ranked');
    const rows = await this.db
      .select({ row: conversations, cursorTs: cursorText(conversations.lastMessageAt) })
      .from(conversations)
      .innerJoin(ranked, eq(ranked.id, conversations.id))
      .where(this.scoped(conversations, lte(ranked.rn, limit + 1)))
      .orderBy(conversations.contactId, desc(conversations.lastMessageAt), desc(conversations.id));
    return rows.map((r) => ({ row: r.row, id: r.row.id, cursorTs: r.cursorTs, joined: {} }));
  }

  /**
   * With a viewer, a conversation they may not see reads as absent. One of two statements built
   * once (the viewer sees everything, or the agent's rule): every thread view starts here.
   */
  async findById(id: string, viewer?: Viewer): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const statement = findByIdStatements[visibilityShape(viewer)];
    const [row] = rowsOf<Record<string, unknown>>(await this.db.execute(statement({ tenantId: this.tenantId, id, userId: viewer?.userId ?? null })));
    return row ? tableRow(conversations, row) : undefined;
  }

  /**
   * Changes the assignee and/or the team of a conversation the viewer may see (undefined: that
   * field unchanged), under a row lock so the previous holder reported is the true one. Leaving it
   * unassigned (or moving it to another team without an assignee) puts it at the back of its
   * team's queue. Must run inside a transaction (the caller's).
   */
  async reassign(
    id: string,
    change: { assigneeId?: string | null; teamId?: string | null },
    viewer?: Viewer,
  ): Promise<Reassigned | undefined> {
    if (!isUuid(id)) return undefined;
    const [before] = await this.db
      .select({ teamId: conversations.teamId, assigneeId: conversations.assigneeId })
      .from(conversations)
      .where(this.scoped(conversations, eq(conversations.id, id), visibleTo(this.tenantId, viewer)))
      .for('update');
    if (!before) return undefined;
    const assigneeId = change.assigneeId === undefined ? before.assigneeId : change.assigneeId;
    const teamId = change.teamId === undefined ? before.teamId : change.teamId;
    const requeue = assigneeId === null && (before.assigneeId !== null || teamId !== before.teamId);
    const [row] = await this.db
      .update(conversations)
      .set({ assigneeId, teamId, updatedAt: sql`now()`, ...(requeue ? { queuedAt: sql`now()` } : {}) })
      .where(this.scoped(conversations, eq(conversations.id, id)))
      .returning();
    // A new assignee (assign, transfer): announced with the change, in the caller's transaction.
    if (assigneeId !== null && assigneeId !== before.assigneeId) {
      await recordWebhookEvents(this.db, this.tenantId, [{ type: 'CONVERSATION_ASSIGNED', subjectId: id, conversationId: id }]);
    }
    return { row: row!, previous: before };
  }


  /** The live (not RESOLVED) conversation of (our number, contact), if any. */
  async findLive(phoneNumberId: string, contactId: string): Promise<ConversationRow | undefined> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(
        this.scopedToKey(
          conversations,
          eq(conversations.phoneNumberId, phoneNumberId),
          eq(conversations.contactId, contactId),
          ne(conversations.status, ConversationStatus.RESOLVED),
        ),
      )
      .limit(1);
    return row;
  }

  /**
   * The live conversation of (our number, contact), opened when there is none. Two callers racing
   * for a new customer meet at the unique partial index conversations_live_uq: the loser's insert
   * does nothing (after waiting for the winner's commit) and it reads the winner's row. Opening
   * one records its CONVERSATION_OPENED webhook event: call it inside a transaction.
   */
  async findOrOpen(
    phoneNumberId: string,
    contactId: string,
    /** Team and assignee of a conversation this call opens (a live one keeps its own). */
    opening: { teamId?: string | null; assigneeId?: string | null } = {},
  ): Promise<ConversationRow> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const live = await this.findLive(phoneNumberId, contactId);
      if (live) return live;
      const [inserted] = await this.db
        .insert(conversations)
        .values({ tenantId: this.tenantId, phoneNumberId, contactId, teamId: opening.teamId ?? null, assigneeId: opening.assigneeId ?? null })
        .onConflictDoNothing({
          target: [conversations.tenantId, conversations.phoneNumberId, conversations.contactId],
          where: sql`status <> 'RESOLVED'`,
        })
        .returning();
      if (inserted) {
        await recordWebhookEvents(this.db, this.tenantId, [{ type: 'CONVERSATION_OPENED', subjectId: inserted.id, conversationId: inserted.id }]);
        return inserted;
      }
      // Lost the race: the winner's row is committed now (ON CONFLICT waited for it). Loop to read
      // it; a second loop only happens if it was resolved in between.
    }
    throw new Error(`could not find or open a conversation for number ${phoneNumberId} and contact ${contactId}`);
  }

  /**
   * A deactivated user's OPEN and PENDING conversations go back to the queue (assignee null);
   * the team's routing sweep picks them up. Returns the ids, for conversationUpdated.
   */
  async unassignOpenOf(userId: string): Promise<string[]> {
    const rows = await this.db
      .update(conversations)
      .set({ assigneeId: null, updatedAt: sql`now()` })
      .where(
        this.scoped(
          conversations,
          eq(conversations.assigneeId, userId),
          inArray(conversations.status, [ConversationStatus.OPEN, ConversationStatus.PENDING]),
        ),
      )
      .returning({ id: conversations.id });
    return rows.map((r) => r.id);
  }

  /** Throws a unique violation (conversations_live_uq) when reopening would make a second live conversation. */
  async setStatus(id: string, status: ConversationStatus, viewer?: Viewer): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const resolved = status === ConversationStatus.RESOLVED;
    const [row] = await this.db
      .update(conversations)
      .set({
        status,
        updatedAt: sql`now()`,
        // Resolving an already resolved conversation keeps its first resolution.
        resolvedAt: resolved ? sql`case when ${conversations.status} = 'RESOLVED' then ${conversations.resolvedAt} else now() end` : null,
        resolvedById: resolved ? sql`case when ${conversations.status} = 'RESOLVED' then ${conversations.resolvedById} else ${viewer?.userId ?? null}::uuid end` : null,
      })
      .where(this.scoped(conversations, eq(conversations.id, id), visibleTo(this.tenantId, viewer)))
      .returning();
    return row;
  }

  /** Resolves the contact's live conversations (the contact was blocked); answers their ids. Inside a transaction (webhook events). */
  async resolveLiveOfContact(contactId: string): Promise<string[]> {
    if (!isUuid(contactId)) return [];
    const rows = await this.db
      .update(conversations)
      .set({ status: ConversationStatus.RESOLVED, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.contactId, contactId), ne(conversations.status, ConversationStatus.RESOLVED)))
      .returning({ id: conversations.id });
    await recordWebhookEvents(
      this.db,
      this.tenantId,
      rows.map((r) => ({ type: 'CONVERSATION_RESOLVED', subjectId: r.id, conversationId: r.id })),
    );
    return rows.map((r) => r.id);
  }

  /** Marks the conversation changed (labels, notes) and answers its current row. */
  async touch(id: string): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      .set({ updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id)))
      .returning();
    return row;
  }

  /**
   * Moves a live conversation to RESOLVED; undefined when it is not there or already resolved.
   * Run it inside a transaction: its CONVERSATION_RESOLVED webhook event is a second statement.
   */
  async resolve(id: string, viewer?: Viewer): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      // Only a live conversation moves, so the resolution time and resolver are always this call's (reports).
      .set({ status: ConversationStatus.RESOLVED, resolvedAt: sql`now()`, resolvedById: viewer?.userId ?? null, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id), ne(conversations.status, ConversationStatus.RESOLVED), visibleTo(this.tenantId, viewer)))
      .returning();
    if (row) await recordWebhookEvents(this.db, this.tenantId, [{ type: 'CONVERSATION_RESOLVED', subjectId: row.id, conversationId: row.id }]);
    return row;
  }

  async markRead(id: string, viewer?: Viewer): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      .set({ unreadCount: 0, lastReadAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id), visibleTo(this.tenantId, viewer)))
      .returning();
    return row;
  }

  /**
   * Records a message written in the current transaction (its created_at is this transaction's
   * now()). A concurrent transaction may already have recorded a later message: the activity
   * time never moves back and the last message stays the newest one. The contact's activity (the
   * contacts list order) moves with it, in the same statement.
   */
  /** `agentReply`: an agent's message, which is the conversation's first response if none came since the customer's first text. */
  async recordMessage(id: string, messageId: string, agentReply?: { authorId: string | null }): Promise<void> {
    const t = this.tenantId;
    await this.db.execute(sql`
      with recorded as (
        update ${conversations} set ${setClauses(conversations, recordMessageSet(sql`${messageId}::uuid`, agentReply))}
        where ${conversations.tenantId} = ${t}::uuid and ${conversations.id} = ${id}::uuid
        returning ${conversations.contactId}
      )
      update ${contacts} set ${setClauses(contacts, recordContactActivity(sql`now()`))}
      where ${contacts.tenantId} = ${t}::uuid and ${contacts.id} = (select contact_id from recorded)
    `);
  }
}

/** The routing filters of `conversations` (teamId, unassigned, phoneNumberId), as WHERE conditions. */
function routingFilters(filter: ConversationListFilter): Array<SQL | undefined> {
  return [
    filter.teamId ? eq(conversations.teamId, filter.teamId) : undefined,
    filter.unassigned === true ? isNull(conversations.assigneeId) : filter.unassigned === false ? isNotNull(conversations.assigneeId) : undefined,
    filter.phoneNumberId ? eq(conversations.phoneNumberId, filter.phoneNumberId) : undefined,
  ];
}

type ListParam = 'tenantId' | 'userId' | 'afterTs' | 'afterId';
interface ListShape {
  /** The viewer is not ADMIN: the visibility rule joins the WHERE. */
  agent: boolean;
  /** After a cursor (a next page). */
  after: boolean;
  /**
   * The LIMIT, written into the statement (the page size + 1: 2..101), not a parameter. As a
   * parameter, the generic plan estimates it blind (a tenth of the tenant's conversations) and
   * costs far more than a custom one, so Postgres planned the page afresh on every execution:
   * 0.4 ms of planning for 0.15 ms of execution once its relations were joined (bench, issue 16).
   * With the number in the text, the generic plan is the custom one and is kept after five runs.
   */
  rows: number;
}

/**
 * The list's statement: the tenant's conversations the viewer may see, with the filters, most
 * recent activity first. `values` are the call's values, or placeholders (usualListStatement).
 * Hand-written (db.execute, rows mapped by tableRow) rather than a query builder call: the builder
 * walks every column and fragment again on every request.
 */
function listStatement(values: Record<ListParam, unknown>, shape: ListShape, filter: ConversationListFilter): SQL {
  // The values reach the planner through sub-selects, `(select $n::uuid)`: a plan made for the
  // call's values then costs what the generic plan does, and Postgres keeps the generic one after
  // five runs. Seen as values, a tenant with many more conversations than the average made every
  // custom plan look cheaper, and the page was planned on every call (0.7 ms of planning for
  // 0.45 ms of execution; bench/results.md, twelfth session). The plan is the same for any tenant:
  // the activity index backwards, stopped by the LIMIT.
  const tenantId = sql`(select ${values.tenantId}::uuid)`;
  const userId = sql`(select ${values.userId}::uuid)`;
  const conditions = [
    // The tenant filter (TenantRepository.scoped's, written here for a statement built once).
    sql`${conversations.tenantId} = ${tenantId}`,
    filter.status ? eq(conversations.status, filter.status) : undefined,
    filter.assigneeId ? eq(conversations.assigneeId, filter.assigneeId) : undefined,
    ...routingFilters(filter),
    shape.agent ? agentVisibility(tenantId, userId) : undefined,
    shape.after
      ? olderThan(conversations.lastMessageAt, conversations.id, { ts: sql`(select ${values.afterTs}::timestamptz)`, id: sql`(select ${values.afterId}::uuid)` })
      : undefined,
    ...inboxFilterConditions(values.tenantId as string, filter),
  ];
  return sql`select ${allColumns(conversations)}, ${cursorText(conversations.lastMessageAt)} as "cursorTs"
    from ${conversations}
    where ${and(...conditions)}
    -- Matches conversations_tenant_activity_idx (tenant_id, last_message_at, id), scanned backwards.
    order by ${conversations.lastMessageAt} desc, ${conversations.id} desc
    limit ${sql.raw(String(rowLimit(shape.rows)))}`;
}

/** A join's columns in the answer are `<name>.<column>`: its prefix and its id column's name. */
function joinColumnNames(join: ListJoin): { prefix: string; idColumn: string } {
  return { prefix: `${join.name}.`, idColumn: `${join.name}.id` };
}

/**
 * The page with its joins: the list's statement as a subquery (its LIMIT applies first), each join
 * a look-up by (tenant, id) per row, columns named `<join>.<column>` for tableRow. Without joins,
 * the list's statement as it is.
 */
function withJoins(list: SQL, joins: readonly ListJoin[]): SQL {
  if (joins.length === 0) return list;
  const page = sql.identifier('page');
  const columns = joins.flatMap((join) =>
    Object.values(getTableColumns(join.table) as Record<string, PgColumn>).map(
      (c) => sql`${sql.identifier(join.name)}.${sql.identifier(c.name)} as ${sql.identifier(`${join.name}.${c.name}`)}`,
    ),
  );
  // A lateral look-up with LIMIT 1 per join: a plain left join let the generic plan (LIMIT is a
  // parameter, estimated at a tenth of the tenant's conversations) hash whole tables instead of
  // probing 21 keys, and the page cost Postgres more than the four statements it replaced (bench).
  const joined = joins.map((join) => {
    const alias = sql.identifier(join.name);
    const row = sql.identifier('row');
    return sql` left join lateral (select * from ${join.table} as ${row} where ${row}."tenant_id" = ${page}.${sql.identifier(conversations.tenantId.name)} and ${row}."id" = ${page}.${sql.identifier(join.via.name)} limit 1) as ${alias} on true`;
  });
  return sql`select ${page}.*, ${sql.join(columns, sql`, `)}
    from (${list}) as ${page}${sql.join(joined, sql``)}
    order by ${page}.${sql.identifier(conversations.lastMessageAt.name)} desc, ${page}.${sql.identifier(conversations.id.name)} desc`;
}

/** A LIMIT written into SQL text: only a page size the service accepted (see pageSize), plus one. */
function rowLimit(rows: number): number {
  if (!Number.isInteger(rows) || rows < 2 || rows > MAX_PAGE_SIZE + 1) throw new Error(`list: ${rows} is not a page size + 1`);
  return rows;
}

/**
 * The unfiltered list's statements (ADMIN or not, first page or not, page size, which joins), each
 * built once: at most 4 × 100 × 16, in practice the few page sizes clients use.
 */
const usualListStatements = new Map<string, (values: Record<ListParam, unknown>) => SQL>();

function usualListStatement(shape: ListShape, joins: readonly ListJoin[]): (values: Record<ListParam, unknown>) => SQL {
  const key = `${shape.agent}:${shape.after}:${shape.rows}:${joins.map((j) => j.name).join(',')}`;
  let statement = usualListStatements.get(key);
  if (!statement) {
    const p = (name: ListParam) => sql.placeholder(name);
    const placeholders: Record<ListParam, unknown> = { tenantId: p('tenantId'), userId: p('userId'), afterTs: p('afterTs'), afterId: p('afterId') };
    statement = builtOnce<ListParam>(() => withJoins(listStatement(placeholders, shape, {}), joins));
    usualListStatements.set(key, statement);
  }
  return statement;
}

type FindByIdParam = 'tenantId' | 'id' | 'userId';

/** findById's statement: `all` for a viewer who sees every conversation (ADMIN), `agent` with the visibility rule. */
function findByIdStatement(shape: VisibilityShape): (values: Record<FindByIdParam, unknown>) => SQL {
  const p = (name: FindByIdParam) => sql.placeholder(name);
  return builtOnce<FindByIdParam>(() => conversationById(shape, { tenantId: p('tenantId'), id: p('id'), userId: p('userId') }));
}

const findByIdStatements = { all: findByIdStatement('all'), agent: findByIdStatement('agent') };
