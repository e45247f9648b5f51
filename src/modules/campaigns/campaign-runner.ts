import { and, eq, isNull, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { countSegments } from '../../twilio/segments.js';
import { contacts } from '../contacts/contacts.schema.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import { conversations } from '../conversations/conversations.schema.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { MessageSource } from '../messages/message.enums.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { CampaignStatus, RecipientState } from './campaign.enums.js';
import { campaignUpdatedEvent } from './campaign-events.js';
import { campaignRecipients, campaigns, type CampaignRecipientRow, type CampaignRow } from './campaigns.schema.js';
import { renderCampaignBody } from './placeholders.js';
import { nextWindowOpening, recipientZone } from './send-window.js';

/** Progress events per campaign at most this often from one instance ("a few times a second"). */
const PROGRESS_EVERY_MS = 400;
const MAX_CAMPAIGNS_PER_ROUND = 50;

/**
 * Turns running campaigns' recipients into outbox jobs, a few at a time. Any instance may run it:
 * recipients are claimed with FOR UPDATE SKIP LOCKED, and each claim writes the recipient's
 * message, its outbox job and the recipient's QUEUED state in one transaction, so every recipient
 * gets exactly one message across instances and restarts. Only about a second's worth of sends
 * (at the sender's pace) is handed to the outbox at a time: a pause stops new sends within a
 * second (those already handed over finish), and agents' replies on the same number are not
 * queued behind a whole campaign.
 */
export class CampaignRunner {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly deps: AppDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        busy = await this.round();
      } catch (err) {
        if (this.running) this.deps.logger.error({ err }, 'campaign round failed');
      }
      if (!this.running) break;
      await this.idle(busy ? 20 : this.deps.config.dispatcher.pollMs);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  /** One pass over the campaigns that may have work; true when something was handed over. */
  private async round(): Promise<boolean> {
    const db = this.deps.db;
    const started = await db
      .update(campaigns)
      .set({ status: CampaignStatus.RUNNING, startedAt: sql`coalesce(${campaigns.startedAt}, now())`, updatedAt: sql`now()` })
      .where(and(eq(campaigns.status, CampaignStatus.SCHEDULED), sql`${campaigns.scheduledAt} <= now()`))
      .returning();
    for (const c of started) this.deps.events.publish(campaignUpdatedEvent(c));

    const active = await db
      .select()
      .from(campaigns)
      .where(eq(campaigns.status, CampaignStatus.RUNNING))
      .orderBy(campaigns.startedAt)
      .limit(MAX_CAMPAIGNS_PER_ROUND);
    let handed = 0;
    for (const campaign of active) {
      if (!this.running) break;
      handed += await this.feed(campaign);
    }
    return handed > 0;
  }

  /** How many of this campaign's messages may wait in the outbox at once: about a second's worth. */
  private window(number: PhoneNumberRow): number {
    const { pacing, dispatcher } = this.deps.config;
    if (!pacing.enabled) return dispatcher.concurrency;
    const mps = number.type === NumberType.SHORT_CODE ? pacing.shortCodeMps : number.type === NumberType.TOLL_FREE ? pacing.tollFreeMps : pacing.longCodeMps;
    return Math.max(1, Math.ceil(mps));
  }

  private async feed(campaign: CampaignRow): Promise<number> {
    const { deps } = this;
    const tenantId = campaign.tenantId;
    const [number] = await deps.db
      .select()
      .from(phoneNumbers)
      .where(and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.id, campaign.phoneNumberId)))
      .limit(1);
    if (!number) return 0;
    const inFlight = await this.inFlight(campaign);
    const room = this.window(number) - inFlight;
    if (room <= 0) return 0;

    const result = await deps.db.transaction(async (tx) => {
      // Shared lock: a pause or cancel waits for this batch to commit, and this batch sees the
      // campaign as it is now, not as the round read it.
      const [current] = await tx
        .select({ status: campaigns.status })
        .from(campaigns)
        .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, campaign.id)))
        .for('share');
      if (current?.status !== CampaignStatus.RUNNING) return { handed: 0, done: false };
      const batch = await tx
        .select()
        .from(campaignRecipients)
        .where(
          and(
            eq(campaignRecipients.tenantId, tenantId),
            eq(campaignRecipients.campaignId, campaign.id),
            eq(campaignRecipients.state, RecipientState.PENDING),
            sql`(${campaignRecipients.notBefore} is null or ${campaignRecipients.notBefore} <= now())`,
          ),
        )
        .orderBy(campaignRecipients.id)
        .limit(room)
        .for('update', { skipLocked: true });
      if (batch.length === 0) return { handed: 0, done: inFlight === 0 && (await this.nothingPending(tx, campaign)) };
      const [tenant] = await tx.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
      let handed = 0;
      for (const recipient of batch) {
        if (await this.handOver(tx, campaign, number, recipient, tenant?.name ?? null)) handed++;
      }
      return { handed, done: false };
    });

    if (result.done) {
      const [completed] = await deps.db
        .update(campaigns)
        .set({ status: CampaignStatus.COMPLETED, completedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, campaign.id), eq(campaigns.status, CampaignStatus.RUNNING)))
        .returning();
      if (completed) {
        this.deps.events.publish(campaignUpdatedEvent(completed));
        this.lastProgress.delete(campaign.id);
        deps.logger.info({ tenantId, campaignId: campaign.id }, 'campaign completed');
      }
      return 0;
    }
    if (result.handed > 0) deps.outbox.notifyEnqueued();
    this.progress(campaign);
    return result.handed;
  }

  /** Messages of the campaign handed to the outbox and not yet sent (or failed). */
  private async inFlight(campaign: CampaignRow): Promise<number> {
    const result = await this.deps.db.execute(sql`
      select count(*)::int as n from campaign_recipients r
      join messages m on m.id = r.message_id and m.tenant_id = r.tenant_id
      where r.tenant_id = ${campaign.tenantId}::uuid and r.campaign_id = ${campaign.id}::uuid and r.state = 'QUEUED'
        and m.status in ('QUEUED', 'SENDING')
    `);
    return rowsOf<{ n: number }>(result)[0]?.n ?? 0;
  }

  private async nothingPending(tx: Db, campaign: CampaignRow): Promise<boolean> {
    const [row] = await tx
      .select({ id: campaignRecipients.id })
      .from(campaignRecipients)
      .where(
        and(
          eq(campaignRecipients.tenantId, campaign.tenantId),
          eq(campaignRecipients.campaignId, campaign.id),
          eq(campaignRecipients.state, RecipientState.PENDING),
        ),
      )
      .limit(1);
    return !row;
  }

  /**
   * One recipient, inside the batch's transaction: skipped (opted out), deferred (outside the
   * send window), or its message and outbox job written. True when a message was queued.
   */
  private async handOver(tx: Db, campaign: CampaignRow, number: PhoneNumberRow, recipient: CampaignRecipientRow, tenantName: string | null): Promise<boolean> {
    const tenantId = campaign.tenantId;
    const setRecipient = (values: Partial<CampaignRecipientRow>) =>
      tx.update(campaignRecipients).set(values).where(and(eq(campaignRecipients.tenantId, tenantId), eq(campaignRecipients.id, recipient.id)));

    if (campaign.sendWindowStart && campaign.sendWindowEnd) {
      const zone = recipientZone(recipient.phoneNumber, number.e164);
      const opening = nextWindowOpening(new Date(), zone, campaign.sendWindowStart, campaign.sendWindowEnd);
      if (opening) {
        await setRecipient({ notBefore: opening });
        return false;
      }
    }
    if (number.removedAt) {
      await setRecipient({ state: RecipientState.SKIPPED, reason: 'the sending number was removed' });
      return false;
    }

    const contact = await new ContactsRepository(tx, tenantId).upsertByPhone(recipient.phoneNumber);
    if (recipient.name && !contact.name) {
      await tx.update(contacts).set({ name: recipient.name }).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contact.id), isNull(contacts.name)));
    }
    if (contact.optedOut) {
      await setRecipient({ state: RecipientState.SKIPPED, reason: 'opted out' });
      return false;
    }
    if ((contact as { blocked?: boolean }).blocked === true) {
      await setRecipient({ state: RecipientState.SKIPPED, reason: 'blocked' });
      return false;
    }

    const conversationsRepo = new ConversationsRepository(tx, tenantId);
    // The contact's live conversation on this number, else a new PENDING one (waiting for the
    // customer): a reply then lands in it, after the campaign text.
    let conversation = await conversationsRepo.findLive(number.id, contact.id);
    if (!conversation) {
      const [opened] = await tx
        .insert(conversations)
        .values({ tenantId, phoneNumberId: number.id, contactId: contact.id, status: ConversationStatus.PENDING })
        .onConflictDoNothing({ target: [conversations.tenantId, conversations.phoneNumberId, conversations.contactId], where: sql`status <> 'RESOLVED'` })
        .returning();
      conversation = opened ?? (await conversationsRepo.findLive(number.id, contact.id));
    }
    if (!conversation) throw new Error(`no conversation for campaign recipient ${recipient.id}`);

    const body = renderCampaignBody(campaign.body, { contactName: recipient.name ?? contact.name, tenantName });
    const message = await new MessagesRepository(tx, tenantId).insertOutbound({
      conversationId: conversation.id,
      twilioAccountId: number.twilioAccountId,
      body,
      media: [],
      authorId: null,
      segments: countSegments(body).segments,
      idempotencyKey: null,
      source: MessageSource.CAMPAIGN,
      campaignId: campaign.id,
    });
    await this.deps.outbox.enqueue(tx, tenantId, message.id, number.id);
    await conversationsRepo.recordMessage(conversation.id, message.id);
    await setRecipient({ state: RecipientState.QUEUED, messageId: message.id });
    return true;
  }

  /** campaignUpdated at most every PROGRESS_EVERY_MS per campaign from this instance. */
  private progress(campaign: CampaignRow): void {
    const now = Date.now();
    if (now - (this.lastProgress.get(campaign.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(campaign.id, now);
    this.deps.events.publish(campaignUpdatedEvent(campaign));
  }
}

