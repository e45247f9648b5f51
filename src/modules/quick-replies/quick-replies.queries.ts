import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { parseSearch } from '../../shared/search.js';
import { QuickRepliesRepository } from './quick-replies.repository.js';
import { quickReplies } from './quick-replies.schema.js';

/** One quick reply of the FIXTURE tenant (inserted by setUp). */
const QUICK_REPLY_ID = '00000000-0000-4000-8000-0000000d1001';

export default [
  repositoryQueries({
    repository: QuickRepliesRepository,
    setUp: async (db) => {
      await db.insert(quickReplies).values({ id: QUICK_REPLY_ID, tenantId: FIXTURE.tenantId, title: 'Hours', titleKey: 'hours', body: 'We are open 9-5.' });
    },
    calls: {
      list: {
        all: (r) => r.list(null),
        searched: (r) => r.list(parseSearch('open')),
      },
      findById: (r) => r.findById(QUICK_REPLY_ID),
      create: (r) => r.create({ title: 'Refunds', body: 'Refunds take 5 days.' }, 100),
      update: (r) => r.update(QUICK_REPLY_ID, { title: 'Opening hours', body: 'We are open 9-6.' }),
      delete: (r) => r.delete(QUICK_REPLY_ID),
    },
  }),
];
