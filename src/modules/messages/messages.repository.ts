import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { anyText, anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';
import { statusesBefore } from './message-status.js';
import { messages, type MessageRow, type StoredMedia } from './messages.schema.js';
import { conversations } from '../conversations/conversations.schema.js';

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
