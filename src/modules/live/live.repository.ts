import { sql, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { rowsOf, type Db } from '../../db/client.js';
import { allColumns, builtOnce, tableRow } from '../../db/sql.js';
import { isUuid } from '../../shared/ids.js';
import { contacts } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { messages } from '../messages/messages.schema.js';
import { users } from '../users/users.schema.js';

/**
 * The rows behind one tick's live events, of every tenant at once: each row is matched on its
 * (tenant_id, id) pair, never on the id alone, so an event names a row of its own tenant or none.
 * One statement per event type and tick instead of one per event: at 500 msg/s the per-event
 * loads were most of the statements the live path sends (bench/results.md, issue 16).
 */
export interface TenantKey {
  tenantId: string;
  id: string;
}

/** `(tenant_id, id)` pairs as two arrays for unnest; keys that are not uuids match nothing. */
function pairArrays(keys: readonly TenantKey[]): { tenantIds: string; ids: string } | null {
  const valid = keys.filter((k) => isUuid(k.tenantId) && isUuid(k.id));
  if (valid.length === 0) return null;
  return { tenantIds: `{${valid.map((k) => k.tenantId).join(',')}}`, ids: `{${valid.map((k) => k.id).join(',')}}` };
}

export type MessageWithHolder = { message: InferSelectModel<typeof messages>; teamId: string | null; assigneeId: string | null };

const messagesWithHolders = builtOnce<'tenantIds' | 'ids'>(
  () => sql`select ${allColumns(messages)}, ${conversations.teamId} as holder_team_id, ${conversations.assigneeId} as holder_assignee_id
    from unnest(${sql.placeholder('tenantIds')}::uuid[], ${sql.placeholder('ids')}::uuid[]) as k(tenant_id, id)
    join ${messages} on ${messages.tenantId} = k.tenant_id and ${messages.id} = k.id
    join ${conversations} on ${conversations.tenantId} = ${messages.tenantId} and ${conversations.id} = ${messages.conversationId}`,
);

/** Messages with who holds their conversation (team, assignee): the row and its visibility. */
export async function loadMessagesWithHolders(db: Db, keys: readonly TenantKey[]): Promise<MessageWithHolder[]> {
  const pairs = pairArrays(keys);
  if (!pairs) return [];
  const rows = rowsOf<Record<string, unknown>>(await db.execute(messagesWithHolders(pairs)));
  return rows.map((raw) => ({
    message: tableRow(messages, raw),
    teamId: raw.holder_team_id as string | null,
    assigneeId: raw.holder_assignee_id as string | null,
  }));
}

type KeyedTable = PgTable & { id: PgColumn; tenantId: PgColumn };
const byPairsStatements = new WeakMap<PgTable, (values: Record<'tenantIds' | 'ids', unknown>) => SQL>();

async function rowsByPairs<T extends KeyedTable>(db: Db, table: T, keys: readonly TenantKey[]): Promise<Array<InferSelectModel<T>>> {
  const pairs = pairArrays(keys);
  if (!pairs) return [];
  let statement = byPairsStatements.get(table);
  if (!statement) {
    statement = builtOnce<'tenantIds' | 'ids'>(
      () => sql`select ${allColumns(table)}
        from unnest(${sql.placeholder('tenantIds')}::uuid[], ${sql.placeholder('ids')}::uuid[]) as k(tenant_id, id)
        join ${table} on ${table.tenantId} = k.tenant_id and ${table.id} = k.id`,
    );
    byPairsStatements.set(table, statement);
  }
  const rows = rowsOf<Record<string, unknown>>(await db.execute(statement(pairs)));
  return rows.map((raw) => tableRow(table, raw));
}

export function loadConversations(db: Db, keys: readonly TenantKey[]): Promise<Array<InferSelectModel<typeof conversations>>> {
  return rowsByPairs(db, conversations, keys);
}

export function loadUsers(db: Db, keys: readonly TenantKey[]): Promise<Array<InferSelectModel<typeof users>>> {
  return rowsByPairs(db, users, keys);
}

export function loadContacts(db: Db, keys: readonly TenantKey[]): Promise<Array<InferSelectModel<typeof contacts>>> {
  return rowsByPairs(db, contacts, keys);
}
