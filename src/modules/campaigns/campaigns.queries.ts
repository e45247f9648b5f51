import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { CampaignRecipientStatus, CampaignStatus, RecipientState } from './campaign.enums.js';
import { CampaignRunRepository, runningCampaigns, startDueCampaigns } from './campaign-runner.repository.js';
import { enqueueSql } from '../messages/messages.queries.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { campaignRecipients, campaigns } from './campaigns.schema.js';

/** A draft campaign on the FIXTURE number, with one recipient (inserted by setUp). */
const CAMPAIGN_ID = '00000000-0000-4000-8000-0000000a5001';

/** The same campaign, running, with one recipient (id 7000) queued with the FIXTURE outbound message. */
async function runningCampaign(db: Db): Promise<void> {
  await db.insert(campaigns).values({ id: CAMPAIGN_ID, tenantId: FIXTURE.tenantId, name: 'Spring sale', phoneNumberId: FIXTURE.phoneNumberId, body: 'Sale!', createdBy: FIXTURE.userId, status: CampaignStatus.RUNNING, startedAt: new Date('2024-03-01T12:00:00.000Z') });
  await db.insert(campaignRecipients).values({ id: 7000, tenantId: FIXTURE.tenantId, campaignId: CAMPAIGN_ID, phoneNumber: FIXTURE.contactPhone, name: 'Ada', state: RecipientState.QUEUED, messageId: FIXTURE.outboundMessageId });
}

export default [
  repositoryQueries({
    repository: CampaignsRepository,
    setUp: async (db) => {
      await db.insert(campaigns).values({ id: CAMPAIGN_ID, tenantId: FIXTURE.tenantId, name: 'Spring sale', phoneNumberId: FIXTURE.phoneNumberId, body: 'Sale!', createdBy: FIXTURE.userId });
      await db.insert(campaignRecipients).values({ tenantId: FIXTURE.tenantId, campaignId: CAMPAIGN_ID, phoneNumber: FIXTURE.contactPhone, name: 'Ada' });
    },
    calls: {
      insert: (r) =>
        r.insert({ name: 'Launch', phoneNumberId: FIXTURE.phoneNumberId, body: 'New!', sendWindowStart: '09:00', sendWindowEnd: '18:00', createdBy: null }),
      findById: (r) => r.findById(CAMPAIGN_ID),
      findByIds: (r) => r.findByIds([CAMPAIGN_ID, FIXTURE.newId]),
      list: {
        'first page': (r) => r.list(20, null),
        'next page': (r) => r.list(20, { createdAt: new Date('2024-03-01T12:00:00.000Z'), id: CAMPAIGN_ID }),
      },
      transition: {
        'to running': (r) => r.transition(CAMPAIGN_ID, [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED], CampaignStatus.RUNNING),
        'scheduled': (r) => r.transition(CAMPAIGN_ID, [CampaignStatus.DRAFT], CampaignStatus.SCHEDULED, { scheduledAt: new Date('2024-03-02T09:00:00.000Z') }),
        'cancelled': (r) => r.transition(CAMPAIGN_ID, [CampaignStatus.DRAFT], CampaignStatus.CANCELLED),
      },
      skipPending: (r) => r.skipPending(CAMPAIGN_ID, 'cancelled'),
      lockForUpdate: (r) => r.lockForUpdate(CAMPAIGN_ID),
      countRecipients: (r) => r.countRecipients(CAMPAIGN_ID),
      addRecipients: (r) =>
        r.addRecipients(CAMPAIGN_ID, [
          { phoneNumber: '+15550100003', name: null },
          { phoneNumber: FIXTURE.contactPhone, name: 'Ada' },
          { phoneNumber: '+15550100003', name: null },
        ]),
      stats: (r) => r.stats([CAMPAIGN_ID]),
      recipients: {
        'first page': (r) => r.recipients(CAMPAIGN_ID, 50, null, null),
        'next page, by status': (r) => r.recipients(CAMPAIGN_ID, 50, 10, CampaignRecipientStatus.DELIVERED),
      },
    },
  }),
  repositoryQueries({
    repository: CampaignRunRepository,
    setUp: runningCampaign,
    calls: {
      sendingNumber: (r) => r.sendingNumber(FIXTURE.phoneNumberId),
      inFlight: (r) => r.inFlight(CAMPAIGN_ID, FIXTURE.phoneNumberId),
      lockStatus: (r) => r.lockStatus(CAMPAIGN_ID),
      claimPending: (r) => r.claimPending(CAMPAIGN_ID, 10),
      hasPending: (r) => r.hasPending(CAMPAIGN_ID),
      tenantName: (r) => r.tenantName(),
      setRecipients: (r) =>
        r.setRecipients([
          { id: 7000, state: RecipientState.SKIPPED, reason: 'opted out' },
          { id: 7001, notBefore: new Date('2026-01-01T14:00:00Z') },
        ]),
      upsertContacts: (r) => r.upsertContacts([FIXTURE.contactPhone, '+15550100003']),
      nameContacts: (r) => r.nameContacts([{ contactId: FIXTURE.newContactId, name: 'Ada' }]),
      liveConversations: (r) => r.liveConversations(FIXTURE.phoneNumberId, [FIXTURE.contactId, FIXTURE.newContactId]),
      openWaitingConversations: (r) => r.openWaitingConversations(FIXTURE.phoneNumberId, [FIXTURE.newContactId]),
      queueTexts: (r) =>
        r.queueTexts(
          { id: CAMPAIGN_ID, phoneNumberId: FIXTURE.phoneNumberId, twilioAccountId: FIXTURE.accountId },
          [{ recipientId: 7000, conversationId: FIXTURE.conversationId, body: 'Sale!', segments: 1 }],
          enqueueSql,
        ),
      complete: (r) => r.complete(CAMPAIGN_ID),
    },
  }),
  functionQueries({
    startDueCampaigns: { run: (db) => startDueCampaigns(db), crossTenant: 'the campaign runner starts every tenant\'s scheduled campaigns' },
    runningCampaigns: { setUp: runningCampaign, run: (db) => runningCampaigns(db, 50), crossTenant: 'the campaign runner serves every tenant' },
  }),
];
