import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { CampaignRecipientStatus, CampaignStatus } from './campaign.enums.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { campaignRecipients, campaigns } from './campaigns.schema.js';

/** A draft campaign on the FIXTURE number, with one recipient (inserted by setUp). */
const CAMPAIGN_ID = '00000000-0000-4000-8000-0000000a5001';

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
];
