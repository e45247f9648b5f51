import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { findAccountByWebhookKey, TwilioAccountsRepository } from './twilio-accounts.repository.js';

export default [
  repositoryQueries({
    repository: TwilioAccountsRepository,
    calls: {
      list: (r) => r.list(),
      findById: (r) => r.findById(FIXTURE.accountId),
      findByIds: (r) => r.findByIds([FIXTURE.accountId]),
      upsert: {
        'reconnect, name kept': (r) =>
          r.upsert({
            accountSid: FIXTURE.accountSid,
            authTokenSealed: 'sealed',
            friendlyName: 'Main',
            friendlyNameGiven: false,
            apiBaseUrl: 'https://api.twilio.com',
            mediaEnabled: null,
            acceptedMediaTypes: null,
            webhookKey: 'snapshot-new-key',
          }),
        'every field given': (r) =>
          r.upsert({
            accountSid: FIXTURE.accountSid,
            authTokenSealed: 'sealed',
            friendlyName: 'Main',
            friendlyNameGiven: true,
            apiBaseUrl: 'https://api.twilio.com',
            mediaEnabled: true,
            acceptedMediaTypes: ['image/jpeg'],
            webhookKey: 'snapshot-new-key',
          }),
      },
    },
  }),
  functionQueries({
    findAccountByWebhookKey: {
      run: (db) => findAccountByWebhookKey(db, FIXTURE.webhookKey),
      crossTenant: 'the webhook has no token: the key in its URL finds the account, and so the tenant',
    },
  }),
];
