import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { parseSearch } from '../../shared/search.js';
import { ContactsRepository } from './contacts.repository.js';

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.contactId };

export default [
  repositoryQueries({
    repository: ContactsRepository,
    calls: {
      list: {
        'first page': (r) => r.list(20, null, null),
        'next page, by name': (r) => r.list(20, cursor, parseSearch('Ada')),
        'by number digits': (r) => r.list(20, null, parseSearch('555 0100')),
      },
      update: (r) => r.update(FIXTURE.contactId, { name: 'Ada', blocked: true }),
      upsertByPhone: (r) => r.upsertByPhone(FIXTURE.contactPhone, { city: 'Austin', state: 'TX', zip: null, country: 'US' }),
      findById: (r) => r.findById(FIXTURE.contactId),
      findByIds: (r) => r.findByIds([FIXTURE.contactId, FIXTURE.newId]),
      setOptedOut: (r) => r.setOptedOut(FIXTURE.contactId, true),
    },
  }),
];
