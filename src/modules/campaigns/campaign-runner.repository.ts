import { and, eq, isNull, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { literal } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { contacts } from '../contacts/contacts.schema.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations, type ConversationRow } from '../conversations/conversations.schema.js';
import { MessageStatus } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { CampaignStatus, RecipientState } from './campaign.enums.js';
import { campaignRecipients, campaigns, type CampaignRecipientRow, type CampaignRow } from './campaigns.schema.js';

/** Scheduled campaigns whose time has come become RUNNING (every tenant's: the runner serves them all). */
export function startDueCampaigns(db: Db): Promise<CampaignRow[]> {
  return db
    .update(campaigns)
    .set({ status: CampaignStatus.RUNNING, startedAt: sql`coalesce(${campaigns.startedAt}, now())`, updatedAt: sql`now()` })
    .where(and(eq(campaigns.status, CampaignStatus.SCHEDULED), sql`${campaigns.scheduledAt} <= now()`))
    .returning();
}

/** Running campaigns of every tenant, the longest running first. */
export function runningCampaigns(db: Db, limit: number): Promise<CampaignRow[]> {
  return db.select().from(campaigns).where(eq(campaigns.status, CampaignStatus.RUNNING)).orderBy(campaigns.startedAt).limit(limit);
}

/** What the campaign runner reads and writes for one campaign of one tenant. */
export class CampaignRunRepository extends TenantRepository {
  async sendingNumber(phoneNumberId: string): Promise<PhoneNumberRow | undefined> {
    const [row] = await this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, eq(phoneNumbers.id, phoneNumberId))).limit(1);
    return row;
  }

  /** Messages of the campaign handed to the outbox and not yet sent (or failed). */
  async inFlight(campaignId: string): Promise<number> {
    const r = campaignRecipients;
    const m = messages;
    const result = await this.db.execute(sql`
      select count(*)::int as n from ${r}
      join ${m} on ${m.id} = ${r.messageId} and ${m.tenantId} = ${r.tenantId}
      where ${r.tenantId} = ${this.tenantId}::uuid and ${r.campaignId} = ${campaignId}::uuid and ${r.state} = ${literal(RecipientState.QUEUED)}
        and ${m.status} in (${literal(MessageStatus.QUEUED)}, ${literal(MessageStatus.SENDING)})
    `);
    return rowsOf<{ n: number }>(result)[0]?.n ?? 0;
  }

  /**
   * The campaign's status under a shared lock: a pause or cancel waits for the batch that holds
   * it to commit, and the batch sees the campaign as it is now.
   */
  async lockStatus(campaignId: string): Promise<CampaignStatus | undefined> {
    const [row] = await this.db
      .select({ status: campaigns.status })
      .from(campaigns)
      .where(this.scoped(campaigns, eq(campaigns.id, campaignId)))
      .for('share');
    return row?.status as CampaignStatus | undefined;
  }

  /** Up to `limit` pending recipients due now, locked (SKIP LOCKED: instances share the work), in submission order. */
  claimPending(campaignId: string, limit: number): Promise<CampaignRecipientRow[]> {
    return this.db
      .select()
      .from(campaignRecipients)
      .where(
        this.scoped(
          campaignRecipients,
          eq(campaignRecipients.campaignId, campaignId),
          eq(campaignRecipients.state, RecipientState.PENDING),
          sql`(${campaignRecipients.notBefore} is null or ${campaignRecipients.notBefore} <= now())`,
        ),
      )
      .orderBy(campaignRecipients.id)
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async hasPending(campaignId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: campaignRecipients.id })
      .from(campaignRecipients)
      .where(this.scoped(campaignRecipients, eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.state, RecipientState.PENDING)))
      .limit(1);
    return row !== undefined;
  }

  async tenantName(): Promise<string | null> {
    const [row] = await this.db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, this.tenantId));
    return row?.name ?? null;
  }

  async setRecipient(recipientId: number, values: Partial<Pick<CampaignRecipientRow, 'state' | 'reason' | 'notBefore' | 'messageId'>>): Promise<void> {
    await this.db.update(campaignRecipients).set(values).where(this.scoped(campaignRecipients, eq(campaignRecipients.id, recipientId)));
  }

  /** The recipient's name for a contact that has none. */
  async nameContact(contactId: string, name: string): Promise<void> {
    await this.db.update(contacts).set({ name }).where(this.scoped(contacts, eq(contacts.id, contactId), isNull(contacts.name)));
  }

  /** A new PENDING conversation (waiting for the customer), unless a live one appeared meanwhile. */
  async openWaitingConversation(phoneNumberId: string, contactId: string): Promise<ConversationRow | undefined> {
    const [opened] = await this.db
      .insert(conversations)
      .values({ tenantId: this.tenantId, phoneNumberId, contactId, status: ConversationStatus.PENDING })
      .onConflictDoNothing({ target: [conversations.tenantId, conversations.phoneNumberId, conversations.contactId], where: sql`status <> 'RESOLVED'` })
      .returning();
    return opened;
  }

  /** RUNNING → COMPLETED; undefined when it is not running (another instance completed it, or it was paused). */
  async complete(campaignId: string): Promise<CampaignRow | undefined> {
    const [row] = await this.db
      .update(campaigns)
      .set({ status: CampaignStatus.COMPLETED, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.scoped(campaigns, eq(campaigns.id, campaignId), eq(campaigns.status, CampaignStatus.RUNNING)))
      .returning();
    return row;
  }
}
