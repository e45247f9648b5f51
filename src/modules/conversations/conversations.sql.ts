import { sql, type SQL } from 'drizzle-orm';
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
