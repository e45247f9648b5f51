import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { findAccountByWebhookKey, listSandboxAccounts, markSandboxAccount, setSandboxApiBaseUrl, TwilioAccountsRepository } from './twilio-accounts.repository.js';

export default [
  repositoryQueries({
    repository: TwilioAccountsRepository,
    calls: {
      list: (r) => r.list(),
      findById: (r) => r.findById(FIXTURE.accountId),
      findByIds: (r) => r.findByIds([FIXTURE.accountId]),
      findIncludingDisconnected: (r) => r.findIncludingDisconnected(FIXTURE.accountId),
      update: {
        'name and media': (r) => r.update(FIXTURE.accountId, { friendlyName: 'Renamed', mediaEnabled: true, acceptedMediaTypes: ['image/png'] }, 'sealed'),
        rotation: (r) =>
          r.update(
            FIXTURE.accountId,
            { rotation: { authTokenSealed: 'sealed-new', previousAuthTokenSealed: 'sealed', previousTokenExpiresAt: new Date('2024-03-02T12:00:00.000Z') } },
            'sealed',
          ),
      },
      clearPreviousToken: (r) => r.clearPreviousToken(FIXTURE.accountId),
      markDisconnected: (r) => r.markDisconnected(FIXTURE.accountId),
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
    listSandboxAccounts: {
      run: (db) => listSandboxAccounts(db),
      crossTenant: 'sandbox start-up only (SANDBOX=true): every simulator account, across tenants, is re-registered with the in-memory simulator',
    },
    setSandboxApiBaseUrl: {
      run: (db) => setSandboxApiBaseUrl(db, 'http://127.0.0.1:4010'),
      crossTenant: 'sandbox start-up only (SANDBOX=true): every simulator account, across tenants, follows the simulator to its new port',
    },
    markSandboxAccount: {
      run: (db) => markSandboxAccount(db, FIXTURE.accountId),
      crossTenant: "sandbox seed only (SANDBOX=true): marks the account it connected to the simulator by its id, before any tenant is bound",
    },
  }),
];
