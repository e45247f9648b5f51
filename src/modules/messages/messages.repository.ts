import { and, asc, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import { allColumns, anyUuid, builtOnce, columnList, setClauses, tableRow } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';
import { statusesBefore } from './message-status.js';
import { messages, type MessageRow, type StoredMedia } from './messages.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordMessageSet } from '../conversations/conversations.sql.js';
import { agentVisibility, type Viewer } from '../conversations/visibility.js';
import { Role } from '../users/role.js';
import { contacts } from '../contacts/contacts.schema.js';
import { recordContactActivity } from '../contacts/contacts.sql.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';

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

/** An agent's reply, for sendReply: the rest comes from the conversation. */
export interface ReplyValues {
  conversationId: string;
  body: string;
  media: StoredMedia[];
  authorId: string | null;
  segments: number;
  idempotencyKey: string | null;
}

/** What sendReply did: the message written, or why nothing was. */
export type ReplyOutcome =
  | { kind: 'sent'; message: MessageRow }
  /** No such conversation, or the viewer may not see it. */
  | { kind: 'not-found' }
  | { kind: 'opted-out' }
  | { kind: 'blocked' }
  /** The conversation's number was removed. */
  | { kind: 'number-removed' };

type ReplyParam = 'tenantId' | 'conversationId' | 'userId' | 'body' | 'media' | 'authorId' | 'segments' | 'idempotencyKey';

/** sendReply's statement, with or without the visibility rule (an ADMIN sees everything), built once each. */
const sendReplyStatements: { admin?: (values: Record<ReplyParam, unknown>) => SQL; agent?: (values: Record<ReplyParam, unknown>) => SQL } = {};

function sendReplyStatement(restricted: boolean, enqueueSql: (rows: SQL) => SQL) {
  return builtOnce<ReplyParam>(() => {
    const p = (name: ReplyParam) => sql.placeholder(name);
    const C = conversations;
    return sql`
      with target as (
        select ${C.id} as conversation_id, ${C.phoneNumberId} as phone_number_id, ${phoneNumbers.twilioAccountId} as twilio_account_id,
          ${contacts.optedOut} as opted_out, ${contacts.blocked} as blocked, ${phoneNumbers.removedAt} is not null as number_removed
        from ${C}
        inner join ${contacts} on ${contacts.tenantId} = ${C.tenantId} and ${contacts.id} = ${C.contactId}
        inner join ${phoneNumbers} on ${phoneNumbers.tenantId} = ${C.tenantId} and ${phoneNumbers.id} = ${C.phoneNumberId}
        where ${C.tenantId} = ${p('tenantId')}::uuid and ${C.id} = ${p('conversationId')}::uuid
          ${restricted ? sql`and ${agentVisibility(p('tenantId'), p('userId'))}` : sql``}
      ),
      message as (
        insert into ${messages} (${columnList(
          messages.tenantId,
          messages.conversationId,
          messages.twilioAccountId,
          messages.direction,
          messages.body,
          messages.media,
          messages.status,
          messages.source,
          messages.authorId,
          messages.segments,
          messages.idempotencyKey,
        )})
        select ${p('tenantId')}::uuid, target.conversation_id, target.twilio_account_id, ${MessageDirection.OUTBOUND}::message_direction, ${p('body')}::text,
          ${p('media')}::jsonb, ${MessageStatus.QUEUED}::message_status, ${MessageSource.AGENT}::message_source,
          ${p('authorId')}::uuid, ${p('segments')}::int, ${p('idempotencyKey')}::text
        from target where not target.opted_out and not target.blocked and not target.number_removed
        returning ${allColumns(messages)}
      ),
      job as (${enqueueSql(sql`select message.tenant_id, message.id, target.phone_number_id from message, target`)}),
      recorded as (
        update ${C} set ${setClauses(C, recordMessageSet(sql`message.id`, { authorId: p('authorId') }))}
        from message
        where ${C.tenantId} = ${p('tenantId')}::uuid and ${C.id} = message.conversation_id
        returning ${C.contactId}
      ),
      contact as (
        update ${contacts} set ${setClauses(contacts, recordContactActivity(sql`now()`))}
        where ${contacts.tenantId} = ${p('tenantId')}::uuid and ${contacts.id} = (select contact_id from recorded)
      )
      select target.opted_out as "target.opted_out", target.blocked as "target.blocked", target.number_removed as "target.number_removed", message.*
      from target left join message on true
    `;
  });
}

export interface MessagePageRow {
  row: MessageRow;
  id: string;
  /** createdAt as exact cursor text. */
  cursorTs: string;
}

export class MessagesRepository extends TenantRepository {
  async findById(id: string): Promise<MessageRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(messages).where(this.scoped(messages, eq(messages.id, id))).limit(1);
    return row;
  }

  /** A message with who holds its conversation (team, assignee): a live event's row and its visibility, in one query. */
  async findWithHolder(id: string): Promise<{ message: MessageRow; teamId: string | null; assigneeId: string | null } | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .select({ message: messages, teamId: conversations.teamId, assigneeId: conversations.assigneeId })
      .from(messages)
      .innerJoin(conversations, and(eq(conversations.tenantId, messages.tenantId), eq(conversations.id, messages.conversationId)))
      .where(this.scoped(messages, eq(messages.id, id)))
      .limit(1);
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
   * sendMessage in ONE statement (no transaction around several): the conversation read under the
   * viewer's visibility rule with its contact and number, and only when the contact may be texted
   * (not opted out, not blocked) from a number still ours: the message QUEUED, its outbox job
   * (`enqueueSql`, the outbox's own INSERT), the conversation's activity and first response, and the
   * contact's activity. One round trip, one commit, instead of three reads, BEGIN, three writes and
   * COMMIT; the checks and the writes see one snapshot. Throws the unique violation
   * messages_tenant_idempotency_uq when the key was used already.
   */
  async sendReply(values: ReplyValues, viewer: Viewer, enqueueSql: (rows: SQL) => SQL): Promise<ReplyOutcome> {
    if (!isUuid(values.conversationId)) return { kind: 'not-found' };
    const statement = viewer.role === Role.ADMIN ? (sendReplyStatements.admin ??= sendReplyStatement(false, enqueueSql)) : (sendReplyStatements.agent ??= sendReplyStatement(true, enqueueSql));
    const result = await this.db.execute(
      statement({
        tenantId: this.tenantId,
        conversationId: values.conversationId,
        userId: viewer.userId ?? null,
        body: values.body,
        media: JSON.stringify(values.media),
        authorId: values.authorId,
        segments: values.segments,
        idempotencyKey: values.idempotencyKey,
      }),
    );
    const [row] = rowsOf<Record<string, unknown>>(result);
    if (!row) return { kind: 'not-found' };
    if (row['id'] !== null && row['id'] !== undefined) return { kind: 'sent', message: tableRow(messages, row) };
    if (row['target.opted_out']) return { kind: 'opted-out' };
    if (row['target.blocked']) return { kind: 'blocked' };
    return { kind: 'number-removed' };
  }

  /**
   * Newest-first pages of several conversations in one statement (a window per conversation),
   * `limit + 1` rows each, so a list of conversations with their messages stays one query.
   */
  async pages(conversationIds: readonly string[], limit: number, before: KeysetCursor | null): Promise<MessagePageRow[]> {
    const ids = conversationIds.filter(isUuid);
    if (ids.length === 0) return [];
    const ranked = this.db
      .select({
        id: messages.id,
        rn: sql<number>`row_number() over (partition by ${messages.conversationId} order by ${messages.createdAt} desc, ${messages.id} desc)`.as(
          'rn',
        ),
      })
      .from(messages)
      .where(
        this.scoped(
          messages,
          // One conversation (a thread): equality, so the window reads the index backwards and
          // stops early; `= any(...)` loses that order and would read and sort the whole thread.
          ids.length === 1 ? eq(messages.conversationId, ids[0]!) : anyUuid(messages.conversationId, ids),
          before ? olderThan(messages.createdAt, messages.id, before) : undefined,
        ),
      )
      .as('ranked');
    const rows = await this.db
      .select({ row: messages, cursorTs: cursorText(messages.createdAt) })
      .from(messages)
      .innerJoin(ranked, eq(ranked.id, messages.id))
      .where(and(this.scoped(messages), lte(ranked.rn, limit + 1)))
      .orderBy(asc(messages.conversationId), desc(messages.createdAt), desc(messages.id));
    return rows.map((r) => ({ row: r.row, id: r.row.id, cursorTs: r.cursorTs }));
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
