import { desc, eq, ne, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { ConversationStatus } from './conversation-status.js';
import { conversations, type ConversationRow } from './conversations.schema.js';
import { recordActivity } from './conversations.sql.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../shared/ids.js';

export interface ConversationListFilter {
  status?: ConversationStatus | null;
  assigneeId?: string | null;
}

export interface ConversationListRow {
  row: ConversationRow;
  id: string;
  /** lastMessageAt as exact cursor text. */
  cursorTs: string;
}

export class ConversationsRepository extends TenantRepository {
  /** Most recent activity first; `limit + 1` rows so the caller knows whether there is more. */
  async list(limit: number, after: KeysetCursor | null, filter: ConversationListFilter = {}): Promise<ConversationListRow[]> {
    const rows = await this.db
      .select({ row: conversations, cursorTs: cursorText(conversations.lastMessageAt) })
      .from(conversations)
      .where(
        this.scoped(
          conversations,
          filter.status ? eq(conversations.status, filter.status) : undefined,
          filter.assigneeId ? eq(conversations.assigneeId, filter.assigneeId) : undefined,
          after ? olderThan(conversations.lastMessageAt, conversations.id, after) : undefined,
        ),
      )
      // Matches conversations_tenant_activity_idx (tenant_id, last_message_at desc, id desc).
      .orderBy(desc(conversations.lastMessageAt), desc(conversations.id))
      .limit(limit + 1);
    return rows.map((r) => ({ row: r.row, id: r.row.id, cursorTs: r.cursorTs }));
  }

  async findById(id: string): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(conversations).where(this.scoped(conversations, eq(conversations.id, id))).limit(1);
    return row;
  }


  /** The live (not RESOLVED) conversation of (our number, contact), if any. */
  async findLive(phoneNumberId: string, contactId: string): Promise<ConversationRow | undefined> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(
        this.scoped(
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
   * does nothing (after waiting for the winner's commit) and it reads the winner's row.
   */
  async findOrOpen(phoneNumberId: string, contactId: string): Promise<ConversationRow> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const live = await this.findLive(phoneNumberId, contactId);
      if (live) return live;
      const [inserted] = await this.db
        .insert(conversations)
        .values({ tenantId: this.tenantId, phoneNumberId, contactId })
        .onConflictDoNothing({
          target: [conversations.tenantId, conversations.phoneNumberId, conversations.contactId],
          where: sql`status <> 'RESOLVED'`,
        })
        .returning();
      if (inserted) return inserted;
      // Lost the race: the winner's row is committed now (ON CONFLICT waited for it). Loop to read
      // it; a second loop only happens if it was resolved in between.
    }
    throw new Error(`could not find or open a conversation for number ${phoneNumberId} and contact ${contactId}`);
  }

  async assign(id: string, assigneeId: string | null): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      .set({ assigneeId, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id)))
      .returning();
    return row;
  }

  /** Throws a unique violation (conversations_live_uq) when reopening would make a second live conversation. */
  async setStatus(id: string, status: ConversationStatus): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      .set({ status, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id)))
      .returning();
    return row;
  }

  async markRead(id: string): Promise<ConversationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(conversations)
      .set({ unreadCount: 0, lastReadAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.scoped(conversations, eq(conversations.id, id)))
      .returning();
    return row;
  }

  /**
   * Records a message written in the current transaction (its created_at is this transaction's
   * now()). A concurrent transaction may already have recorded a later message: the activity
   * time never moves back and the last message stays the newest one.
   */
  async recordMessage(id: string, messageId: string): Promise<void> {
    await this.db
      .update(conversations)
      .set({
        ...recordActivity(sql`now()`, sql`${messageId}::uuid`),
        updatedAt: sql`now()`,
      })
      .where(this.scoped(conversations, eq(conversations.id, id)));
  }
}
