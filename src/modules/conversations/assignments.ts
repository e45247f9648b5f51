import type { Db } from '../../db/client.js';
import type { AssignmentsPort } from '../../shared/deps.js';
import { ConversationsRepository } from './conversations.repository.js';

/** AppDeps.assignments: the users module releases a deactivated user's conversations through it. */
export class ConversationAssignments implements AssignmentsPort {
  releaseAllOf(tx: Db, tenantId: string, userId: string): Promise<string[]> {
    return new ConversationsRepository(tx, tenantId).unassignOpenOf(userId);
  }
}
