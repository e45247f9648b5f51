import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { allColumns, tenantParam } from '../../db/sql.js';
import { conversations } from './conversations.schema.js';
import { agentVisibility, type VisibilityShape } from './visibility.js';

/**
 * One conversation as a viewer may see it: `all` for a viewer who sees every conversation, `agent`
 * under the visibility rule. The values are any SQL (placeholders of a statement built once).
 * Written once; ConversationsRepository.findById runs it, and the thread statement
 * (MessagesRepository.conversationWithPage) reads its page beside it.
 */
export function conversationById(shape: VisibilityShape, values: { tenantId: unknown; id: unknown; userId: unknown }): SQL {
  return sql`select ${allColumns(conversations)} from ${conversations}
    where ${conversations.tenantId} = ${tenantParam(values.tenantId)} and ${conversations.id} = ${values.id}::uuid
      ${shape === 'agent' ? sql`and ${agentVisibility(values.tenantId, values.userId)}` : sql``}
    limit 1`;
}

/**
 * The activity rule of a conversation recording a message written at `at` with id `messageId`:
 * a concurrent transaction may already have recorded a later message, so the activity time never
 * moves back and the last message stays the newest one. Written once; used by
 * ConversationsRepository.recordMessage, the ingest statement and the benchmark's ceiling.
 */
export function recordActivity(at: SQL, messageId: SQL): { lastMessageId: SQL; lastMessageAt: SQL } {
  return {
    lastMessageId: sql`case when ${at} >= ${conversations.lastMessageAt} then ${messageId} else ${conversations.lastMessageId} end`,
    lastMessageAt: sql`greatest(${conversations.lastMessageAt}, ${at})`,
  };
}

/**
 * What recording a message now changes on its conversation (the SET of an UPDATE of
 * `conversations`): the activity rule, and for an agent's reply (`agentReply`) the first response
 * when the customer wrote first. Written once; used by ConversationsRepository.recordMessage and
 * the sendMessage statement (sendReplies, messages/reply-batch.repository.ts).
 */
export function recordMessageSet(
  messageId: SQL,
  agentReply?: { authorId: string | null | SQLWrapper },
): Partial<Record<keyof typeof conversations._.columns, SQL>> {
  const firstResponse = agentReply
    ? {
        firstResponderId: sql`case when ${conversations.firstResponseAt} is null and ${conversations.firstInboundAt} is not null
          then ${agentReply.authorId}::uuid else ${conversations.firstResponderId} end`,
        firstResponseAt: sql`case when ${conversations.firstResponseAt} is null and ${conversations.firstInboundAt} is not null
          then now() else ${conversations.firstResponseAt} end`,
      }
    : {};
  return { ...firstResponse, ...recordActivity(sql`now()`, messageId), updatedAt: sql`now()` };
}
