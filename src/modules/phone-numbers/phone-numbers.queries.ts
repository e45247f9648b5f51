import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { NumberDirection, NumberType } from './phone-number.enums.js';
import { PhoneNumbersRepository } from './phone-numbers.repository.js';

export default [
  repositoryQueries({
    repository: PhoneNumbersRepository,
    calls: {
      findById: (r) => r.findById(FIXTURE.phoneNumberId),
      findByIds: (r) => r.findByIds([FIXTURE.phoneNumberId, FIXTURE.newId]),
      listActive: (r) => r.listActive(),
      listActiveByAccounts: (r) => r.listActiveByAccounts([FIXTURE.accountId]),
      insert: (r) =>
        r.insert({
          twilioAccountId: FIXTURE.accountId,
          e164: '+15550100009',
          type: NumberType.LONG_CODE,
          direction: NumberDirection.INBOUND_OUTBOUND,
          description: null,
          messagingServiceSid: null,
          twilioNumberSid: null,
        }),
      update: (r) => r.update(FIXTURE.phoneNumberId, { description: 'Support line', teamId: null }),
      remove: (r) => r.remove(FIXTURE.phoneNumberId),
      removeAllOfAccount: (r) => r.removeAllOfAccount(FIXTURE.accountId),
      deleteJustInserted: (r) => r.deleteJustInserted(FIXTURE.newId),
    },
  }),
];
