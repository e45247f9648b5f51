import { FIXTURE, functionQueries } from '../../db/query-catalog.js';
import { loadContacts, loadConversations, loadMessagesWithHolders, loadUsers } from './live.repository.js';

const WHY =
  "the rows of one tick's live events, whatever their tenants (one statement instead of one per event); every row is matched on its (tenant, id) pair";
const key = (id: string) => [{ tenantId: FIXTURE.tenantId, id }];

export default [
  functionQueries({
    loadMessagesWithHolders: { run: (db) => loadMessagesWithHolders(db, [...key(FIXTURE.messageId), ...key(FIXTURE.outboundMessageId)]), crossTenant: WHY },
    loadConversations: { run: (db) => loadConversations(db, key(FIXTURE.conversationId)), crossTenant: WHY },
    loadUsers: { run: (db) => loadUsers(db, key(FIXTURE.userId)), crossTenant: WHY },
    loadContacts: { run: (db) => loadContacts(db, key(FIXTURE.contactId)), crossTenant: WHY },
  }),
];
