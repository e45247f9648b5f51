import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { parseSearch } from '../../shared/search.js';
import { Role } from '../users/role.js';
import { ConversationLabelsRepository } from './conversation-labels.repository.js';
import { ConversationStatus } from './conversation-status.js';
import { ConversationsRepository } from './conversations.repository.js';
import { conversationLabels } from './conversations.schema.js';

const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.conversationId };
/** An agent's view: the visibility rule (assignee, no team, or one of the agent's teams) joins the WHERE. */
const agent = { userId: FIXTURE.userId, role: Role.AGENT };
/** A team id for the routing filters; no row needed (the filters only compare it). */
const TEAM_ID = '00000000-0000-4000-8000-0000000c1001';

export default [
  repositoryQueries({
    repository: ConversationsRepository,
    calls: {
      pagesByContact: {
        'first pages': (r) => r.pagesByContact([FIXTURE.contactId, FIXTURE.newId], 20, null),
        'next pages, as an agent': (r) => r.pagesByContact([FIXTURE.contactId], 20, cursor, agent),
      },
      list: {
        'first page': (r) => r.list(20, null),
        'next page, filtered': (r) => r.list(20, cursor, { status: ConversationStatus.OPEN, assigneeId: FIXTURE.userId }),
        'routing filters, as an agent': (r) => r.list(20, null, { teamId: TEAM_ID, unassigned: true, phoneNumberId: FIXTURE.phoneNumberId }, agent),
        'inbox filters': (r) => r.list(20, null, { search: parseSearch('refund'), label: 'vip', contactId: FIXTURE.contactId }),
      },
      findById: {
        'as an admin': (r) => r.findById(FIXTURE.conversationId),
        'as an agent': (r) => r.findById(FIXTURE.conversationId, agent),
      },
      reassign: {
        assign: (r) => r.reassign(FIXTURE.conversationId, { assigneeId: FIXTURE.userId }),
        'to a team queue, as an agent': (r) => r.reassign(FIXTURE.conversationId, { assigneeId: null, teamId: null }, agent),
      },
      findLive: (r) => r.findLive(FIXTURE.phoneNumberId, FIXTURE.contactId),
      findOrOpen: {
        'live one found': (r) => r.findOrOpen(FIXTURE.phoneNumberId, FIXTURE.contactId),
        'opened': (r) => r.findOrOpen(FIXTURE.phoneNumberId, FIXTURE.newContactId, { assigneeId: FIXTURE.userId }),
      },
      unassignOpenOf: (r) => r.unassignOpenOf(FIXTURE.userId),
      setStatus: {
        'as an admin': (r) => r.setStatus(FIXTURE.conversationId, ConversationStatus.RESOLVED),
        'as an agent': (r) => r.setStatus(FIXTURE.conversationId, ConversationStatus.PENDING, agent),
      },
      resolve: {
        'as an admin': (r) => r.resolve(FIXTURE.conversationId),
        'as an agent': (r) => r.resolve(FIXTURE.conversationId, agent),
      },
      resolveLiveOfContact: (r) => r.resolveLiveOfContact(FIXTURE.contactId),
      touch: (r) => r.touch(FIXTURE.conversationId),
      markRead: {
        'as an admin': (r) => r.markRead(FIXTURE.conversationId),
        'as an agent': (r) => r.markRead(FIXTURE.conversationId, agent),
      },
      recordMessage: (r) => r.recordMessage(FIXTURE.conversationId, FIXTURE.messageId),
    },
  }),
  repositoryQueries({
    repository: ConversationLabelsRepository,
    setUp: async (db) => {
      await db.insert(conversationLabels).values({ tenantId: FIXTURE.tenantId, conversationId: FIXTURE.conversationId, label: 'VIP', key: 'vip', position: 0 });
    },
    calls: {
      byConversation: (r) => r.byConversation([FIXTURE.conversationId]),
      replace: {
        'two labels': (r) => r.replace(FIXTURE.conversationId, [{ label: 'Billing', key: 'billing' }, { label: 'VIP', key: 'vip' }]),
        cleared: (r) => r.replace(FIXTURE.conversationId, []),
      },
    },
  }),
];
