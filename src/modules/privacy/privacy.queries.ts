import { sql } from 'drizzle-orm';
import { FIXTURE, functionQueries } from '../../db/query-catalog.js';
import { messages } from '../messages/messages.schema.js';
import { queueTwilioDeletions } from './privacy.service.js';

// Only the exported function: the export/erasure service and the retention and maintenance
// workers write their SQL inline (not in a repository), outside what these snapshots capture.
export default [
  functionQueries({
    queueTwilioDeletions: {
      run: (db) => queueTwilioDeletions(db, FIXTURE.tenantId, sql`${messages.id} in (${FIXTURE.messageId}::uuid, ${FIXTURE.outboundMessageId}::uuid)`),
    },
  }),
];
