import { desc, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { unroutedMessages, type UnroutedMessageRow } from './unrouted.schema.js';

export interface NewUnroutedMessage {
  twilioAccountId: string;
  fromAddress: string;
  toAddress: string;
  body: string;
  twilioSid: string;
}

export class UnroutedMessagesRepository extends TenantRepository {
  /** Twilio's retries of one MessageSid are stored once. */
  async insert(values: NewUnroutedMessage): Promise<void> {
    await this.db
      .insert(unroutedMessages)
      .values({ ...values, tenantId: this.tenantId })
      .onConflictDoNothing({ target: [unroutedMessages.tenantId, unroutedMessages.twilioAccountId, unroutedMessages.twilioSid] });
  }

  /** Newest first, `limit + 1` rows from the cursor on. */
  async page(limit: number, after: KeysetCursor | null): Promise<Array<{ row: UnroutedMessageRow; cursorTs: string; id: string }>> {
    const rows = await this.db
      .select({ row: unroutedMessages, cursorTs: cursorText(unroutedMessages.receivedAt) })
      .from(unroutedMessages)
      .where(this.scoped(unroutedMessages, after ? olderThan(unroutedMessages.receivedAt, unroutedMessages.id, after) : sql`true`))
      .orderBy(desc(unroutedMessages.receivedAt), desc(unroutedMessages.id))
      .limit(limit + 1);
    return rows.map((r) => ({ row: r.row, cursorTs: r.cursorTs, id: r.row.id }));
  }
}
