import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { ContactsRepository } from './contacts.repository.js';

export default [
  repositoryQueries({
    repository: ContactsRepository,
    calls: {
      upsertByPhone: (r) => r.upsertByPhone(FIXTURE.contactPhone, { city: 'Austin', state: 'TX', zip: null, country: 'US' }),
      findById: (r) => r.findById(FIXTURE.contactId),
      findByIds: (r) => r.findByIds([FIXTURE.contactId, FIXTURE.newId]),
      setOptedOut: (r) => r.setOptedOut(FIXTURE.contactId, true),
    },
  }),
];
