import { eq, inArray, sql, type SQL } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import { aliasedColumns, allColumns, anyText, builtOnce, tableRow } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';
import { conversations, type ConversationRow } from '../conversations/conversations.schema.js';
import { conversationById } from '../conversations/conversations.sql.js';
import { visibilityShape, type Viewer, type VisibilityShape } from '../conversations/visibility.js';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';
import { statusesBefore } from './message-status.js';
import { messages, type MessageRow, type StoredMedia } from './messages.schema.js';

export interface OutboundMessageValues {
  conversationId: string;
  twilioAccountId: string;
  body: string;
  media: StoredMedia[];
  /** Null for automated and campaign texts. */
  authorId: string | null;
  segments: number;
  idempotencyKey: string | null;
  /** AGENT unless given. */
  source?: MessageSource;
  /** The campaign that sends it (source CAMPAIGN). */
  campaignId?: string | null;
}

export interface MessagePageRow {
  row: MessageRow;
  id: string;
  /** createdAt as exact cursor text. */
  cursorTs: string;
}

/** A conversation with one page of its messages (newest first, `limit + 1` rows), read together. */
export interface ThreadRows {
  conversation: ConversationRow;
  page: MessagePageRow[];
}

export class MessagesRepository extends TenantRepository {
  async findById(id: string): Promise<MessageRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(messages).where(this.scoped(messages, eq(messages.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<MessageRow[]> {
    return this.rowsByIds(messages, ids);
  }

  async findByIdempotencyKey(key: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .select()
      .from(messages)
      .where(this.scoped(messages, eq(messages.idempotencyKey, key)))
      .limit(1);
    return row;
  }

  /** Throws a unique violation (messages_tenant_idempotency_uq) when the key was used already. */
  async insertOutbound(values: OutboundMessageValues): Promise<MessageRow> {
    const [row] = await this.db
      .insert(messages)
      .values({
        ...values,
        tenantId: this.tenantId,
        direction: MessageDirection.OUTBOUND,
        status: MessageStatus.QUEUED,
        source: values.source ?? MessageSource.AGENT,
      })
      .returning();
    return row!;
  }

  /**
   * Newest-first pages of several conversations in one statement (a window per conversation),
   * `limit + 1` rows each, so a list of conversations with their messages stays one query.
   * One of four statements built once (pageStatements): a thread's page is the hot read of an
   * open conversation, and building it through the query builder on every request was about a
   * fifth of that request's server CPU (bench, issue 16).
   */
  async pages(conversationIds: readonly string[], limit: number, before: KeysetCursor | null): Promise<MessagePageRow[]> {
    const ids = conversationIds.filter(isUuid);
    if (ids.length === 0) return [];
    const statement = pageStatements[ids.length === 1 ? 'one' : 'many'][before ? 'before' : 'first'];
    const result = await this.db.execute(
      statement({
        tenantId: this.tenantId,
        conversations: ids.length === 1 ? ids[0]! : `{${ids.join(',')}}`,
        beforeTs: before?.ts ?? null,
        beforeId: before?.id ?? null,
        rows: limit + 1,
      }),
    );
    return rowsOf<Record<string, unknown>>(result).map(pageRow);
  }

  /**
   * A conversation the viewer may see (as ConversationsRepository.findById decides) with one page
   * of its messages, the same rows `pages([id], limit, before)` answers: one statement for the
   * thread view instead of two round trips (the conversation, then its page). Undefined where
   * findById finds nothing.
   */
  async conversationWithPage(conversationId: string, viewer: Viewer | undefined, limit: number, before: KeysetCursor | null): Promise<ThreadRows | undefined> {
    if (!isUuid(conversationId)) return undefined;
    const statement = threadStatements[visibilityShape(viewer)][before ? 'before' : 'first'];
    const result = await this.db.execute(
      statement({
        tenantId: this.tenantId,
        id: conversationId,
        userId: viewer?.userId ?? null,
        beforeTs: before?.ts ?? null,
        beforeId: before?.id ?? null,
        rows: limit + 1,
      }),
    );
    const raw = rowsOf<Record<string, unknown>>(result);
    if (raw.length === 0) return undefined;
    const conversation = tableRow(conversations, raw[0]!, THREAD_CONVERSATION_PREFIX);
    // A conversation without messages (or none older than the cursor) answers one row whose message columns are null.
    const page = raw.filter((r) => r.id !== null).map(pageRow);
    return { conversation, page };
  }

  /** Which of these Twilio SIDs of the account some message of ours already holds. */
  async knownTwilioSids(twilioAccountId: string, sids: readonly string[]): Promise<Set<string>> {
    if (sids.length === 0) return new Set();
    const rows = await this.db
      .select({ sid: messages.twilioSid })
      .from(messages)
      .where(this.scoped(messages, eq(messages.twilioAccountId, twilioAccountId), anyText(messages.twilioSid, sids)));
    return new Set(rows.map((r) => r.sid!));
  }

  async recordFailure(id: string, errorCode: number | null, errorMessage: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .update(messages)
      .set({ status: MessageStatus.FAILED, errorCode, errorMessage, updatedAt: sql`now()` })
      .where(this.scoped(messages, eq(messages.id, id), inArray(messages.status, statusesBefore(MessageStatus.FAILED))))
      .returning();
    return row;
  }
}

/** A message of a page statement's answer (the message's columns and its "cursorTs"). */
function pageRow(raw: Record<string, unknown>): MessagePageRow {
  const row = tableRow(messages, raw);
  return { row, id: row.id, cursorTs: raw.cursorTs as string };
}

type PageParam = 'tenantId' | 'conversations' | 'beforeTs' | 'beforeId' | 'rows';

/**
 * The page statement of MessagesRepository.pages, for one conversation (`one`, a thread: equality,
 * so the window reads messages_tenant_conversation_idx backwards and stops early; `= any(...)`
 * loses that order and would read and sort the whole thread) or several (`many`), from the first
 * page or `before` a cursor. Rows are ranked per conversation, newest first, and the first
 * `rows` of each kept.
 */
function pageStatement(conversationCount: 'one' | 'many', page: 'first' | 'before'): (values: Record<PageParam, unknown>) => SQL {
  const p = (name: PageParam) => sql.placeholder(name);
  return builtOnce<PageParam>(() => {
    const ofConversations =
      conversationCount === 'one' ? sql`${messages.conversationId} = ${p('conversations')}::uuid` : sql`${messages.conversationId} = any(${p('conversations')}::uuid[])`;
    const older = page === 'before' ? sql` and ${olderThan(messages.createdAt, messages.id, { ts: sql`${p('beforeTs')}`, id: sql`${p('beforeId')}` })}` : sql``;
    return sql`select ${allColumns(messages)}, ${cursorText(messages.createdAt)} as "cursorTs"
      from ${messages}
      inner join (
        select ${messages.id} as id,
          row_number() over (partition by ${messages.conversationId} order by ${messages.createdAt} desc, ${messages.id} desc) as rn
        from ${messages}
        where ${messages.tenantId} = ${p('tenantId')}::uuid and ${ofConversations}${older}
      ) ranked on ranked.id = ${messages.id}
      where ${messages.tenantId} = ${p('tenantId')}::uuid and ranked.rn <= ${p('rows')}
      order by ${messages.conversationId} asc, ${messages.createdAt} desc, ${messages.id} desc`;
  });
}

const pageStatements = {
  one: { first: pageStatement('one', 'first'), before: pageStatement('one', 'before') },
  many: { first: pageStatement('many', 'first'), before: pageStatement('many', 'before') },
};

type ThreadParam = 'tenantId' | 'id' | 'userId' | 'beforeTs' | 'beforeId' | 'rows';

/** The conversation's columns in conversationWithPage's answer: `conversation.<column>`, beside the message's own names. */
const THREAD_CONVERSATION_PREFIX = 'conversation.';

/**
 * conversationWithPage's statement, for a viewer who sees every conversation (`all`) or the
 * visibility rule (`agent`), from the first page or `before` a cursor: the conversation (the
 * same look-up as findById) and, laterally, its newest `rows` messages by the index
 * (tenant_id, conversation_id, created_at, id) read backwards, one answer row per message,
 * newest first. The conversation's columns are filled on the first row only (null on the
 * others): the driver parses every timestamp it is sent into a Date, and the conversation's
 * nine repeated on each of 50 rows cost more server CPU than the round trip saved (bench).
 */
function threadStatement(shape: VisibilityShape, page: 'first' | 'before'): (values: Record<ThreadParam, unknown>) => SQL {
  const p = (name: ThreadParam) => sql.placeholder(name);
  return builtOnce<ThreadParam>(() => {
    const conversation = sql.identifier('conversation');
    const threadPage = sql.identifier('page');
    // No message (an empty page) still answers one row, the conversation's.
    const firstRow = sql`coalesce(${threadPage}."rn", 1) = 1`;
    const older = page === 'before' ? sql` and ${olderThan(messages.createdAt, messages.id, { ts: sql`${p('beforeTs')}`, id: sql`${p('beforeId')}` })}` : sql``;
    return sql`select ${aliasedColumns(conversations, THREAD_CONVERSATION_PREFIX, 'conversation', firstRow)}, ${threadPage}.*
      from (${conversationById(shape, { tenantId: p('tenantId'), id: p('id'), userId: p('userId') })}) as ${conversation}
      left join lateral (
        select ${allColumns(messages)}, ${cursorText(messages.createdAt)} as "cursorTs",
          row_number() over (order by ${messages.createdAt} desc, ${messages.id} desc) as "rn"
        from ${messages}
        where ${messages.tenantId} = ${p('tenantId')}::uuid and ${messages.conversationId} = ${conversation}.${sql.identifier(conversations.id.name)}${older}
        order by ${messages.createdAt} desc, ${messages.id} desc
        limit ${p('rows')}
      ) as ${threadPage} on true
      order by ${threadPage}."rn"`;
  });
}

const threadStatements = {
  all: { first: threadStatement('all', 'first'), before: threadStatement('all', 'before') },
  agent: { first: threadStatement('agent', 'first'), before: threadStatement('agent', 'before') },
};
