import { rowsOf, sql } from '../../src/db/client.js';
import type { TestServer } from '../helpers/test-server.js';

/** A digest of every tenant-owned table's rows of one tenant: any insert, update or delete shows. */
export async function tenantSnapshot(server: TestServer, tenantId: string): Promise<Record<string, string>> {
  const db = server.app.deps.db;
  const tables = rowsOf<{ table_name: string }>(
    await db.execute(sql`select table_name from information_schema.columns where table_schema = 'public' and column_name = 'tenant_id' order by table_name`),
  ).map((r) => r.table_name);
  const out: Record<string, string> = {};
  for (const table of tables) {
    const [row] = rowsOf<{ digest: string | null; n: number | string }>(
      await db.execute(sql`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest, count(*) as n from ${sql.identifier(table)} t where tenant_id = ${tenantId}`),
    );
    out[table] = `${row?.n}:${row?.digest}`;
  }
  return out;
}

/** The tenant's outbox jobs: sends accepted earlier and not yet recorded as SENT or FAILED. */
export async function outboxJobs(server: TestServer, tenantId: string): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(await server.app.deps.db.execute(sql`select count(*) as n from outbox where tenant_id = ${tenantId}`));
  return Number(row?.n ?? 0);
}
