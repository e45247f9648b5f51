import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { conversations } from './conversations.schema.js';

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
