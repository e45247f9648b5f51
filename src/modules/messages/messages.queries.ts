import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { sql, type SQL } from 'drizzle-orm';
import { outbox } from '../../db/schema.js';
import { columnList } from '../../db/sql.js';
import { Role } from '../users/role.js';
import { MessagesRepository } from './messages.repository.js';
import { sendReplies } from './reply-batch.repository.js';

/**
 * The outbox's INSERT as the app hands it in (OutboxPort.enqueueSql, outbox/outbox.repository.ts);
 * written here from the table because messages may not import the outbox module (it is the other
 * way round). The text is the same. The campaign runner's catalog uses it too.
 */
export const enqueueSql = (rows: SQL) => sql`insert into ${outbox} (${columnList(outbox.tenantId, outbox.messageId, outbox.phoneNumberId)}) ${rows}`;

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.messageId };

export default [
  repositoryQueries({
    repository: MessagesRepository,
    calls: {
      findById: (r) => r.findById(FIXTURE.messageId),
      findByIds: (r) => r.findByIds([FIXTURE.messageId, FIXTURE.outboundMessageId]),
      findByIdempotencyKey: (r) => r.findByIdempotencyKey('snapshot-key'),
      knownTwilioSids: (r) => r.knownTwilioSids(FIXTURE.accountId, ['SM' + '0'.repeat(32), 'SM' + '1'.repeat(32)]),
      insertOutbound: (r) =>
        r.insertOutbound({
          conversationId: FIXTURE.conversationId,
          twilioAccountId: FIXTURE.accountId,
          body: 'Hello',
          media: [],
          authorId: FIXTURE.userId,
          segments: 1,
          idempotencyKey: 'snapshot-new-key',
        }),
      pages: {
        'first pages': (r) => r.pages([FIXTURE.conversationId], 20, null),
        // A list of conversations (a dashboard page's lastMessage) is one array parameter.
        'first pages, several conversations': (r) => r.pages([FIXTURE.conversationId, FIXTURE.conversationId], 1, null),
        'older pages': (r) => r.pages([FIXTURE.conversationId], 20, cursor),
      },
      conversationWithPage: {
        // An ADMIN sees every conversation; an AGENT through the visibility rule.
        'first page, ADMIN': (r) => r.conversationWithPage(FIXTURE.conversationId, { role: Role.ADMIN, userId: FIXTURE.userId }, 20, null),
        'first page, AGENT': (r) => r.conversationWithPage(FIXTURE.conversationId, { role: Role.AGENT, userId: FIXTURE.userId }, 20, null),
        'older page, AGENT': (r) => r.conversationWithPage(FIXTURE.conversationId, { role: Role.AGENT, userId: FIXTURE.userId }, 20, cursor),
      },
      recordFailure: (r) => r.recordFailure(FIXTURE.outboundMessageId, 30007, 'Carrier violation'),
    },
  }),
  functionQueries({
    sendReplies: {
      run: (db) =>
        sendReplies(
          db,
          [
            {
              tenantId: FIXTURE.tenantId,
              messageId: FIXTURE.newId,
              viewer: { userId: FIXTURE.userId, role: Role.AGENT },
              values: { conversationId: FIXTURE.conversationId, body: 'Hello', media: [], authorId: FIXTURE.userId, segments: 1, idempotencyKey: null },
            },
          ],
          enqueueSql,
        ),
      crossTenant:
        "group commit: one statement writes the replies of several tenants; each row carries its caller's tenant, and every join and write uses that row's own tenant_id",
    },
  }),
];
