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

/**
 * `(tenant_id, id)` pairs as two arrays for unnest; keys that are not uuids match nothing. The
 * statements read each array through a sub-select, `unnest((select $n::uuid[]))`: its length is
 * then unknown to the planner even in a plan made for the call's values, so the generic plan
 * (estimated at 10 keys) costs what the custom ones do and Postgres keeps it. Given `$n::uuid[]`,
 * each custom plan saw the 1-3 keys and looked cheaper than the generic one, and every load was
 * planned afresh: 0.37 ms of planning for 0.11 ms of execution per live event (bench, issue 16;
 * test/queries/hot-plans.test.ts).
 */
function pairArrays(keys: readonly TenantKey[]): { tenantIds: string; ids: string } | null {
  const valid = keys.filter((k) => isUuid(k.tenantId) && isUuid(k.id));
  if (valid.length === 0) return null;
  return { tenantIds: `{${valid.map((k) => k.tenantId).join(',')}}`, ids: `{${valid.map((k) => k.id).join(',')}}` };
}

export type MessageWithHolder = { message: InferSelectModel<typeof messages>; teamId: string | null; assigneeId: string | null };

// Lateral probes ("limit 1" keeps the planner from flattening them into joins), so each key is
// one look-up of a primary key: as joins, a generic plan made while messages was small hashed
// the keys over a sequential scan of the whole table, and kept doing so as it grew (bench, issue
// 16: 0.7 ms per load at 5,000 messages, a third of Postgres's CPU at 500 msg/s). The probe names
// the id alone and the tenant is compared on the row found, outside the probe: given the tenant
// too, a plan made before the table's first analysis walked messages_tenant_created_idx (all of
// the tenant's messages) as often as the key (test/queries/hot-plans.test.ts).
const messagesWithHolders = builtOnce<'tenantIds' | 'ids'>(
  () => sql`select m.*, c.holder_team_id, c.holder_assignee_id
    from unnest((select ${sql.placeholder('tenantIds')}::uuid[]), (select ${sql.placeholder('ids')}::uuid[])) as k(tenant_id, id)
    cross join lateral (select ${allColumns(messages)} from ${messages} where ${messages.id} = k.id limit 1) m
    cross join lateral (
      select ${conversations.tenantId} as holder_tenant_id, ${conversations.teamId} as holder_team_id, ${conversations.assigneeId} as holder_assignee_id
      from ${conversations} where ${conversations.id} = m.conversation_id limit 1
    ) c
    where m.tenant_id = k.tenant_id and c.holder_tenant_id = m.tenant_id`,
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
      () => sql`select r.*
        from unnest((select ${sql.placeholder('tenantIds')}::uuid[]), (select ${sql.placeholder('ids')}::uuid[])) as k(tenant_id, id)
        cross join lateral (select ${allColumns(table)} from ${table} where ${table.id} = k.id limit 1) r
        where r.tenant_id = k.tenant_id`,
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
