import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { ConversationStatus } from './conversation-status.js';
import { ConversationsRepository } from './conversations.repository.js';

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.conversationId };

export default [
  repositoryQueries({
    repository: ConversationsRepository,
    calls: {
      list: {
        'first page': (r) => r.list(20, null),
        'next page, filtered': (r) => r.list(20, cursor, { status: ConversationStatus.OPEN, assigneeId: FIXTURE.userId }),
      },
      findById: (r) => r.findById(FIXTURE.conversationId),
      findLive: (r) => r.findLive(FIXTURE.phoneNumberId, FIXTURE.contactId),
      findOrOpen: {
        'live one found': (r) => r.findOrOpen(FIXTURE.phoneNumberId, FIXTURE.contactId),
        'opened': (r) => r.findOrOpen(FIXTURE.phoneNumberId, FIXTURE.newContactId),
      },
      assign: (r) => r.assign(FIXTURE.conversationId, FIXTURE.userId),
      setStatus: (r) => r.setStatus(FIXTURE.conversationId, ConversationStatus.RESOLVED),
      markRead: (r) => r.markRead(FIXTURE.conversationId),
      recordMessage: (r) => r.recordMessage(FIXTURE.conversationId, FIXTURE.messageId),
    },
  }),
];
