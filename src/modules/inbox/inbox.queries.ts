import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries } from '../../db/query-catalog.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import { Role } from '../users/role.js';
import { joinsFor } from './inbox-joins.js';

const agent = { userId: FIXTURE.userId, role: Role.AGENT };
const cursor = { ts: '2024-03-01T12:00:00.000000Z', id: FIXTURE.conversationId };
const list = (db: Db) => new ConversationsRepository(db, FIXTURE.tenantId);

// The inbox's `conversations` query: one statement a page, the relations its selection names
// joined (conversations' own catalog has the list without joins).
export default [
  functionQueries({
    'inbox page with contact, assignee and last message, as an agent': {
      run: (db) => list(db).list(20, null, {}, agent, joinsFor(new Set(['contact', 'assignee', 'lastMessage']))),
    },
    'inbox next page with every relation, filtered': {
      run: (db) => list(db).list(20, cursor, { teamId: FIXTURE.conversationId }, undefined, joinsFor(new Set(['contact', 'assignee', 'lastMessage', 'phoneNumber']))),
    },
  }),
];
