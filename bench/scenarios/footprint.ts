/**
 * Scenario 12, footprint: what the run left in the database, per message and per tenant, and the
 * connections the server holds. Not scored; docs/scaling.md projects these figures onto a stated
 * load (bytes and rows per message, connections per instance).
 *
 * Bytes per message are the whole on-disk size (heap, TOAST and indexes) of the tables that grow
 * with messages, divided by the messages stored; tables that grow with tenants are reported per
 * tenant. Fresh tables after a short run carry free space, so these are upper estimates.
 */
import type { Ctx } from '../lib/context.js';
import { fmt } from '../lib/stats.js';

const S = '12 footprint';

/** Tables whose size follows the number of messages (everything an inbound or outbound message writes). */
const PER_MESSAGE = ['messages', 'conversations', 'contacts', 'outbox', 'media_copy_jobs', 'media_files', 'webhook_deliveries', 'automation_sends', 'csat_surveys', 'campaign_recipients'];

export async function footprintScenario(ctx: Ctx): Promise<void> {
  const sql = ctx.db.sql;
  const tables = await sql<{ name: string; rows: string; bytes: string }[]>`
    select c.relname as name, c.reltuples::bigint::text as rows, pg_total_relation_size(c.oid)::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'`;
  const size = new Map(tables.map((t) => [t.name, { rows: Number(t.rows), bytes: Number(t.bytes) }]));
  const [{ messages, conversations, contacts, tenants }] = await sql<{ messages: number; conversations: number; contacts: number; tenants: number }[]>`
    select (select count(*) from messages)::int as messages, (select count(*) from conversations)::int as conversations,
           (select count(*) from contacts)::int as contacts, (select count(*) from tenants)::int as tenants`;
  const [{ connections }] = await sql<{ connections: number }[]>`
    select count(*)::int as connections from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  if (messages === 0) {
    ctx.report.add({ scenario: S, metric: 'bytes per message', value: 'no messages stored', verdict: 'SKIP' });
    return;
  }
  const present = PER_MESSAGE.filter((t) => size.has(t));
  const messageBytes = present.reduce((sum, t) => sum + size.get(t)!.bytes, 0);
  const messagesOnly = size.get('messages')?.bytes ?? 0;
  ctx.report.add({ scenario: S, metric: 'on-disk bytes per message, all message tables and indexes', value: fmt(messageBytes / messages, 0) });
  ctx.report.add({ scenario: S, metric: 'of which the messages table and its indexes (search included)', value: fmt(messagesOnly / messages, 0) });
  ctx.report.add({ scenario: S, metric: 'database connections held (server + harness pool)', value: String(connections) });
  ctx.report.detail(S, `${messages.toLocaleString('en-US')} messages in ${conversations.toLocaleString('en-US')} conversations with ${contacts.toLocaleString('en-US')} contacts over ${tenants} tenants`);
  for (const t of present) {
    const s = size.get(t)!;
    ctx.report.detail(S, `${t}: ${(s.bytes / 1024 / 1024).toFixed(1)} MiB, ~${s.rows.toLocaleString('en-US')} rows (${fmt(s.bytes / messages, 0)} bytes per message)`);
  }
  const perTenant = [...size.entries()].filter(([name]) => !PER_MESSAGE.includes(name)).reduce((sum, [, s]) => sum + s.bytes, 0);
  ctx.report.detail(S, `every other table together: ${(perTenant / 1024 / 1024).toFixed(1)} MiB (${fmt(perTenant / Math.max(1, tenants) / 1024, 0)} KiB per tenant; mostly empty-table overhead in a short run)`);
}
