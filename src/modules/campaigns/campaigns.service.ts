import { audit } from '../audit/audit.js';
import { userIdOf } from '../../shared/principal.js';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { requireBody } from '../messages/message-input.js';
import { PhoneNumbersRepository } from '../phone-numbers/phone-numbers.repository.js';
import { CampaignStatus, type CampaignRecipientStatus } from './campaign.enums.js';
import { campaignUpdatedEvent } from '../../events/live-events.js';
import { CampaignsRepository, type CampaignStatsRow, type RecipientValues, type RecipientView } from './campaigns.repository.js';
import type { CampaignRow } from './campaigns.schema.js';

export const MAX_RECIPIENTS_PER_CALL = 10_000;
export const MAX_RECIPIENTS = 100_000;
const MAX_NAME = 200;
const MAX_RECIPIENT_NAME = 200;

export interface CreateCampaignArgs {
  name: string;
  phoneNumberId: string;
  body: string;
  recipients: Array<{ phoneNumber: string; name?: string | null }>;
  sendWindowStart?: string | null;
  sendWindowEnd?: string | null;
}

/** Which statuses each action may start from (contract: DRAFT → SCHEDULED → RUNNING ⇄ PAUSED → COMPLETED; CANCELLED from any but COMPLETED). */
const FROM: Record<'schedule' | 'start' | 'pause' | 'cancel', CampaignStatus[]> = {
  schedule: [CampaignStatus.DRAFT],
  start: [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED],
  pause: [CampaignStatus.RUNNING],
  cancel: [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED],
};

const PAST: Record<string, string> = { schedule: 'scheduled', start: 'started', pause: 'paused', cancel: 'cancelled' };

export class CampaignsService {
  private readonly campaigns: CampaignsRepository;

  constructor(private readonly scope: TenantScope) {
    this.campaigns = new CampaignsRepository(scope.deps.db, scope.tenantId);
  }

  async require(id: string): Promise<CampaignRow> {
    const row = await this.campaigns.findById(id);
    if (!row) throw notFound('Campaign');
    return row;
  }

  find(id: string): Promise<CampaignRow | undefined> {
    return this.campaigns.findById(id);
  }

  findByIds(ids: readonly string[]): Promise<CampaignRow[]> {
    return this.campaigns.findByIds(ids);
  }

  list(limit: number, after: { createdAt: Date; id: string } | null): Promise<CampaignRow[]> {
    return this.campaigns.list(limit, after);
  }

  stats(ids: readonly string[]): Promise<Map<string, CampaignStatsRow>> {
    return this.campaigns.stats(ids);
  }

  recipients(campaignId: string, limit: number, afterId: number | null, status: CampaignRecipientStatus | null): Promise<RecipientView[]> {
    return this.campaigns.recipients(campaignId, limit, afterId, status);
  }

  /** A DRAFT with its first recipients, all or nothing. */
  async create(args: CreateCampaignArgs): Promise<CampaignRow> {
    const name = args.name.trim();
    if (name.length === 0 || name.length > MAX_NAME) throw badInput(`name must be 1 to ${MAX_NAME} characters`, 'name');
    const body = requireBody(args.body);
    const window = sendWindow(args.sendWindowStart, args.sendWindowEnd);
    const number = await new PhoneNumbersRepository(this.scope.deps.db, this.scope.tenantId).findById(args.phoneNumberId);
    if (!number) throw notFound('Phone number');
    if (number.removedAt) throw badInput('This phone number was removed; campaigns cannot be sent from it', 'phoneNumberId');
    const recipients = normalizeRecipients(args.recipients, number.e164, 0);

    const campaign = await this.scope.deps.db.transaction(async (tx) => {
      const repo = new CampaignsRepository(tx, this.scope.tenantId);
      const row = await repo.insert({ name, phoneNumberId: number.id, body, ...window, createdBy: userIdOf(this.scope.user) });
      await repo.addRecipients(row.id, recipients);
      await audit(this.scope).record(tx, { action: 'campaign.create', targetType: 'campaign', targetId: row.id });
      return row;
    });
    this.scope.deps.logger.info({ tenantId: this.scope.tenantId, campaignId: campaign.id, recipients: recipients.length }, 'campaign created');
    return campaign;
  }

  async addRecipients(id: string, list: CreateCampaignArgs['recipients']): Promise<CampaignRow> {
    const campaign = await this.require(id);
    const number = await new PhoneNumbersRepository(this.scope.deps.db, this.scope.tenantId).findById(campaign.phoneNumberId);
    return this.scope.deps.db.transaction(async (tx) => {
      const repo = new CampaignsRepository(tx, this.scope.tenantId);
      const locked = await repo.lockForUpdate(id);
      if (!locked) throw notFound('Campaign');
      if (locked.status !== CampaignStatus.DRAFT) throw badInput(`Recipients can be added to a DRAFT campaign only (this one is ${locked.status})`, 'id');
      const existing = await repo.countRecipients(id);
      const recipients = normalizeRecipients(list, number?.e164 ?? '', existing);
      await repo.addRecipients(id, recipients);
      await audit(this.scope).record(tx, { action: 'campaign.add_recipients', targetType: 'campaign', targetId: locked.id });
      return locked;
    });
  }

  schedule(id: string, at: Date): Promise<CampaignRow> {
    if (Number.isNaN(at.getTime())) throw badInput('at is not a valid time', 'at');
    return this.move(id, 'schedule', CampaignStatus.SCHEDULED, { scheduledAt: at });
  }

  start(id: string): Promise<CampaignRow> {
    return this.move(id, 'start', CampaignStatus.RUNNING);
  }

  pause(id: string): Promise<CampaignRow> {
    return this.move(id, 'pause', CampaignStatus.PAUSED);
  }

  async cancel(id: string): Promise<CampaignRow> {
    const row = await this.scope.deps.db.transaction(async (tx) => {
      const repo = new CampaignsRepository(tx, this.scope.tenantId);
      const moved = await repo.transition(id, FROM.cancel, CampaignStatus.CANCELLED);
      if (moved) {
        await repo.skipPending(id, 'cancelled');
        await audit(this.scope).record(tx, { action: 'campaign.cancel', targetType: 'campaign', targetId: moved.id });
      }
      return moved;
    });
    return this.after(id, 'cancel', row);
  }

  private async move(id: string, action: keyof typeof FROM, to: CampaignStatus, extra: { scheduledAt?: Date } = {}): Promise<CampaignRow> {
    const row = await this.scope.deps.db.transaction(async (tx) => {
      const moved = await new CampaignsRepository(tx, this.scope.tenantId).transition(id, FROM[action], to, extra);
      if (moved) await audit(this.scope).record(tx, { action: `campaign.${action}`, targetType: 'campaign', targetId: moved.id });
      return moved;
    });
    return this.after(id, action, row);
  }

  private async after(id: string, action: string, row: CampaignRow | undefined): Promise<CampaignRow> {
    if (!row) {
      const current = await this.require(id);
      throw badInput(`A ${current.status} campaign cannot be ${PAST[action] ?? action}`, 'id');
    }
    this.scope.deps.events.publish(campaignUpdatedEvent(row));
    // Started or resumed: the first texts leave now, not at the runner's next poll.
    if (row.status === CampaignStatus.RUNNING) this.scope.deps.campaignRunner.wake();
    this.scope.deps.logger.info({ tenantId: this.scope.tenantId, campaignId: id, status: row.status }, `campaign ${action}`);
    return row;
  }
}

function sendWindow(start: string | null | undefined, end: string | null | undefined): { sendWindowStart: string | null; sendWindowEnd: string | null } {
  if (!start && !end) return { sendWindowStart: null, sendWindowEnd: null };
  if (!start || !end) throw badInput('Give both sendWindowStart and sendWindowEnd, or neither', 'sendWindowStart');
  const s = start.slice(0, 5);
  const e = end.slice(0, 5);
  if (s === e) throw badInput('sendWindowStart and sendWindowEnd must differ', 'sendWindowEnd');
  return { sendWindowStart: s, sendWindowEnd: e };
}

/**
 * E.164 for every line (read in the sending number's country when written without a country
 * code); any invalid line refuses the whole call, naming them. Limits: 10,000 a call, 100,000 in all.
 */
function normalizeRecipients(list: CreateCampaignArgs['recipients'], senderE164: string, existing: number): RecipientValues[] {
  if (list.length > MAX_RECIPIENTS_PER_CALL) {
    throw badInput(`At most ${MAX_RECIPIENTS_PER_CALL} recipients a call; add more with addCampaignRecipients`, 'recipients');
  }
  if (existing + list.length > MAX_RECIPIENTS) throw badInput(`A campaign has at most ${MAX_RECIPIENTS} recipients`, 'recipients');
  const country: CountryCode | undefined = parsePhoneNumberFromString(senderE164)?.country;
  const invalid: string[] = [];
  const out: RecipientValues[] = [];
  for (const r of list) {
    const parsed = parsePhoneNumberFromString(r.phoneNumber.trim(), country ? { defaultCountry: country } : undefined);
    if (!parsed || !parsed.isValid()) {
      invalid.push(r.phoneNumber.slice(0, 40));
      continue;
    }
    const name = r.name?.trim() ? r.name.trim().slice(0, MAX_RECIPIENT_NAME) : null;
    out.push({ phoneNumber: parsed.number, name });
  }
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 20).join(', ');
    throw badInput(
      `${invalid.length} invalid phone number(s), nothing was stored: ${shown}${invalid.length > 20 ? ', …' : ''}`,
      'recipients',
    );
  }
  return out;
}
