import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { UnroutedMessagesRepository } from './unrouted.repository.js';

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.newId };

export default [
  repositoryQueries({
    repository: UnroutedMessagesRepository,
    calls: {
      insert: (r) =>
        r.insert({ twilioAccountId: FIXTURE.accountId, fromAddress: FIXTURE.contactPhone, toAddress: '+15550100099', body: 'Hello?', twilioSid: `SM${'4'.repeat(32)}` }),
      page: {
        'first page': (r) => r.page(20, null),
        'next page': (r) => r.page(20, cursor),
      },
    },
  }),
];
