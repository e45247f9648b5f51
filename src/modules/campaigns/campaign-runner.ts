import type { Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { countSegments } from '../../twilio/segments.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import type { PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { WebhookQueueRepository } from '../webhooks/webhook-queue.repository.js';
import { WebhookEventType } from '../webhooks/webhook.type.js';
import { CampaignStatus, RecipientState } from './campaign.enums.js';
import { CAMPAIGN_PROGRESS_EVERY_MS, campaignUpdatedEvent } from '../../events/live-events.js';
import { CampaignRunRepository, runningCampaigns, startDueCampaigns, type CampaignText, type RecipientChange, type RecipientContact } from './campaign-runner.repository.js';
import { CampaignsRepository } from './campaigns.repository.js';
import type { CampaignRecipientRow, CampaignRow } from './campaigns.schema.js';
import { renderCampaignBody } from './placeholders.js';
import { nextWindowOpening, recipientZone } from './send-window.js';
import { WakeableIdle } from '../../shared/wakeable-idle.js';

const MAX_CAMPAIGNS_PER_ROUND = 50;
/**
 * Campaign texts in the outbox per concurrent send of the dispatcher, pacing off. Bench (5,000
 * recipients, DISPATCHER_CONCURRENCY 64, one machine): 1 → 516-657 recipients/s, 2 → 697-790,
 * 4 → 806-996, 8 → 909; 4 is 256 texts, about a quarter of a second of the dispatcher's pace.
 */
const UNPACED_WINDOW_PER_SEND = 4;

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
  /** Set by stop(): a pass under way feeds no further campaigns. */
  private stopping = false;
  private loop: Promise<void> | null = null;
  private readonly idle = new WakeableIdle();
  /**
   * Whether the last look found a running campaign: only then does the dispatcher's drained queue
   * start a pass (a reply's send empties it too, and needs no pass of this runner).
   */
  private campaignsRunning = false;

  constructor(private readonly deps: AppDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    // A full window waits for the dispatcher to empty the queue, not for the next poll: waiting
    // out the poll (500 ms) left the dispatcher idle for most of it, and a campaign ran at half
    // its pace whenever the runner found the window full (bench, twenty-fifth session).
    this.deps.outbox.onDrained(() => {
      if (this.campaignsRunning) this.idle.wake();
    });
    this.deps.campaignRunner.onWake(() => this.idle.wake());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping = true;
    this.deps.outbox.onDrained(null);
    this.deps.campaignRunner.onWake(null);
    this.idle.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Before the round: a drain signalled while it runs (after it read the window) is kept.
      this.idle.beginRound();
      let busy = false;
      try {
        busy = await this.round();
      } catch (err) {
        if (this.running) this.deps.logger.error({ err }, 'campaign round failed');
      }
      if (!this.running) break;
      await this.idle.idle(busy ? 20 : this.deps.config.dispatcher.pollMs);
    }
  }

  /**
   * One pass over the campaigns that may have work; true when something was handed over. The
   * loop of `start()` runs it; a test drives it one pass at a time.
   */
  async round(): Promise<boolean> {
    const db = this.deps.db;
    for (const c of await startDueCampaigns(db)) this.deps.events.publish(campaignUpdatedEvent(c));
    let handed = 0;
    const running = await runningCampaigns(db, MAX_CAMPAIGNS_PER_ROUND);
    this.campaignsRunning = running.length > 0;
    for (const campaign of running) {
      if (this.stopping) break;
      handed += await this.feed(campaign);
    }
    return handed > 0;
  }

  /**
   * How many of this campaign's messages may wait in the outbox at once: about a second's worth
   * at the sender's pace. Without pacing, UNPACED_WINDOW_PER_SEND times the dispatcher's
   * concurrent sends, a fraction of a second at its pace, so the dispatcher finds the next texts
   * waiting while this runner refills.
   */
  private window(number: PhoneNumberRow): number {
    const { pacing, dispatcher } = this.deps.config;
    if (!pacing.enabled) return dispatcher.concurrency * UNPACED_WINDOW_PER_SEND;
    const mps = number.type === NumberType.SHORT_CODE ? pacing.shortCodeMps : number.type === NumberType.TOLL_FREE ? pacing.tollFreeMps : pacing.longCodeMps;
    return Math.max(1, Math.ceil(mps));
  }

  private async feed(campaign: CampaignRow): Promise<number> {
    const { deps } = this;
    const tenantId = campaign.tenantId;
    const run = new CampaignRunRepository(deps.db, tenantId);
    const number = await run.sendingNumber(campaign.phoneNumberId);
    if (!number) return 0;
    const inFlight = await run.inFlight(campaign.id, campaign.phoneNumberId);
    const room = this.window(number) - inFlight;
    if (room <= 0) return 0;

    const result = await deps.db.transaction(async (tx) => {
      const repo = new CampaignRunRepository(tx, tenantId);
      // Shared lock: a pause or cancel waits for this batch to commit, and this batch sees the
      // campaign as it is now, not as the round read it.
      if ((await repo.lockStatus(campaign.id)) !== CampaignStatus.RUNNING) return { handed: 0, done: false };
      const batch = await repo.claimPending(campaign.id, room);
      // Done only when nothing waits and nothing is in flight, both read now and in this order:
      // `inFlight` above was read before this transaction, and another instance may since have
      // handed over the last recipients (it completed the campaign with texts still queued). A
      // recipient another instance is handing over is still PENDING to the first look until that
      // commits, and its text is in the outbox to the second once it has (one statement writes both).
      if (batch.length === 0) return { handed: 0, done: !(await repo.hasPending(campaign.id)) && (await repo.inFlight(campaign.id, campaign.phoneNumberId)) === 0 };
      return { handed: await this.handOver(tx, campaign, number, batch), done: false };
    });

    if (result.done) {
      const completed = await this.complete(campaign);
      if (completed) {
        this.deps.events.publish(campaignUpdatedEvent(completed));
        deps.logger.info({ tenantId, campaignId: campaign.id }, 'campaign completed');
      }
      return 0;
    }
    if (result.handed > 0) deps.outbox.notifyEnqueued();
    this.progress(campaign);
    return result.handed;
  }

  /**
   * RUNNING → COMPLETED and its CAMPAIGN_COMPLETED webhook deliveries, in one transaction: only
   * the instance whose update wins queues them, exactly once (a crash before the commit leaves the
   * campaign RUNNING and a later round completes it; after the commit the deliveries are durable).
   */
  private complete(campaign: CampaignRow): Promise<CampaignRow | undefined> {
    const tenantId = campaign.tenantId;
    return this.deps.db.transaction(async (tx) => {
      const completed = await new CampaignRunRepository(tx, tenantId).complete(campaign.id);
      if (!completed) return undefined;
      const stats = (await new CampaignsRepository(tx, tenantId).stats([completed.id])).get(completed.id) ?? null;
      const type = WebhookEventType.CAMPAIGN_COMPLETED;
      const data = {
        id: completed.id,
        name: completed.name,
        status: completed.status,
        phoneNumberId: completed.phoneNumberId,
        startedAt: completed.startedAt,
        completedAt: completed.completedAt,
        stats,
      };
      await new WebhookQueueRepository(tx, tenantId).queueEvent({
        type,
        orderingKey: `campaign:${completed.id}`,
        webhookId: `msg_campaign_completed_${completed.id}`,
        payload: JSON.stringify({ type, timestamp: new Date().toISOString(), data }),
      });
      return completed;
    });
  }

  /**
   * A claimed batch, inside its transaction: each recipient skipped (opted out, blocked, number
   * removed), deferred (outside the send window), or its message and outbox job written. A few
   * statements for the whole batch, not several per recipient: the hand-over was the campaign's
   * bottleneck (about 7 round trips a recipient inside one transaction). Answers how many texts
   * were queued.
   */
  private async handOver(tx: Db, campaign: CampaignRow, number: PhoneNumberRow, batch: readonly CampaignRecipientRow[]): Promise<number> {
    const run = new CampaignRunRepository(tx, campaign.tenantId);
    // Recipients that get no text in this batch (skipped, or deferred to their send window):
    // written by one statement at the end, not one each.
    const notSent: RecipientChange[] = [];
    const skip = (recipient: CampaignRecipientRow, reason: string) => notSent.push({ id: recipient.id, state: RecipientState.SKIPPED, reason });

    const ready: CampaignRecipientRow[] = [];
    for (const recipient of batch) {
      if (campaign.sendWindowStart && campaign.sendWindowEnd) {
        const zone = recipientZone(recipient.phoneNumber, number.e164);
        const opening = nextWindowOpening(new Date(), zone, campaign.sendWindowStart, campaign.sendWindowEnd);
        if (opening) {
          notSent.push({ id: recipient.id, notBefore: opening });
          continue;
        }
      }
      if (number.removedAt) skip(recipient, 'the sending number was removed');
      else ready.push(recipient);
    }

    const sendable: Array<{ recipient: CampaignRecipientRow; contact: RecipientContact }> = [];
    if (ready.length > 0) {
      const contactByPhone = new Map((await run.upsertContacts(ready.map((r) => r.phoneNumber))).map((c) => [c.phoneNumber, c]));
      await run.nameContacts(
        ready.flatMap((r) => {
          const contact = contactByPhone.get(r.phoneNumber);
          return r.name && contact && !contact.name ? [{ contactId: contact.id, name: r.name }] : [];
        }),
      );
      for (const recipient of ready) {
        const contact = contactByPhone.get(recipient.phoneNumber);
        if (!contact) throw new Error(`no contact for campaign recipient ${recipient.id}`);
        if (contact.optedOut) skip(recipient, 'opted out');
        else if (contact.blocked) skip(recipient, 'blocked');
        else sendable.push({ recipient, contact });
      }
    }
    await run.setRecipients(notSent);
    if (sendable.length === 0) return 0;

    // Each contact's live conversation on this number, else a new PENDING one (waiting for the
    // customer): a reply then lands in it, after the campaign text. One opened meanwhile by an
    // inbound text is found by the second look.
    const contactIds = sendable.map((s) => s.contact.id);
    const conversationOf = await run.liveConversations(number.id, contactIds);
    const missing = () => contactIds.filter((id) => !conversationOf.has(id));
    for (const [contactId, id] of await run.openWaitingConversations(number.id, missing())) conversationOf.set(contactId, id);
    if (missing().length > 0) for (const [contactId, id] of await run.liveConversations(number.id, missing())) conversationOf.set(contactId, id);

    const tenantName = await run.tenantName();
    const texts = sendable.map(({ recipient, contact }): CampaignText => {
      const conversationId = conversationOf.get(contact.id);
      if (!conversationId) throw new Error(`no conversation for campaign recipient ${recipient.id}`);
      const body = renderCampaignBody(campaign.body, { contactName: recipient.name ?? contact.name, tenantName });
      return { recipientId: recipient.id, conversationId, body, segments: countSegments(body).segments };
    });
    return run.queueTexts({ id: campaign.id, phoneNumberId: number.id, twilioAccountId: number.twilioAccountId }, texts, (rows) => this.deps.outbox.enqueueSql(rows));
  }

  /**
   * campaignUpdated at most every CAMPAIGN_PROGRESS_EVERY_MS per campaign from this instance, the
   * last one of a burst included (trailing edge), like the delivery receipts' updates.
   */
  private progress(campaign: CampaignRow): void {
    this.deps.events.publishThrottled(campaignUpdatedEvent(campaign), CAMPAIGN_PROGRESS_EVERY_MS);
  }
}

