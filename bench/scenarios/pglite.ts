/**
 * 6. The embedded default: the same server with no DATABASE_URL (PGlite on disk in a temporary
 * DATA_DIR), saturated with signed webhooks as in scenario 1. After the server stops, the data
 * folder is opened with PGlite here and every MessageSid must be stored exactly once.
 */
import { PGlite } from '@electric-sql/pglite';
import { join } from 'node:path';
import { loadLine, runLoad, type Ctx } from '../lib/context.js';
import type { Row } from '../lib/report.js';
import type { Tenant } from '../lib/seed.js';
import type { ServerUnderTest } from '../lib/server.js';
import { fmt } from '../lib/stats.js';
import { prepareWebhooks, writeRequests, type ExpectedMessage } from '../lib/webhooks.js';

const S = '6 PGlite';

export interface PgliteSetup {
  server: ServerUnderTest;
  dataDir: string;
  tenants: Tenant[];
  startupMs: number;
}

/** Returns the throughput row, whose ceiling column the harness fills in with the Postgres figure once known. */
export async function pgliteScenario(ctx: Ctx, setup: PgliteSetup): Promise<{ row: Row; throughput: number }> {
  const { sizes, report } = ctx;
  const origin = setup.server.origin;
  const warm = prepareWebhooks(setup.tenants, sizes.pgliteWarmup, { phase: 'pgwarm', sendersPerTenant: sizes.sendersPerTenant });
  const sat = prepareWebhooks(setup.tenants, sizes.pgliteCount, { phase: 'pgsat', sendersPerTenant: sizes.sendersPerTenant });
  ctx.log(`pglite: warm-up and ${sizes.pgliteCount} webhooks at saturation`);
  const warmRun = await runLoad({ origin, requestsFile: writeRequests(ctx.tmp, 'pg-warm', warm.requests), amount: warm.requests.length, connections: sizes.saturationConnections });
  const run = await runLoad(
    { origin, requestsFile: writeRequests(ctx.tmp, 'pg-sat', sat.requests), amount: sat.requests.length, connections: sizes.saturationConnections },
    setup.server.pid,
  );
  report.detail(S, `server start with a fresh DATA_DIR (copy of the data-directory image, or PGlite init + migrations without one): ${(setup.startupMs / 1000).toFixed(1)} s; ${setup.tenants.length} tenants seeded through the API`);
  report.detail(S, loadLine('warm-up (not scored)', warmRun));
  report.detail(S, loadLine(`saturation, ${sizes.saturationConnections} connections`, run));

  ctx.log('pglite: stopping the server and checking its data folder');
  await setup.server.stop();
  const expected = [...warm.expected, ...sat.expected];
  const check = await verifyPglite(join(setup.dataDir, 'pglite'), expected);
  const failed = warmRun.non2xx + warmRun.errors + run.non2xx + run.errors;
  const missing = expected.length - check.stored;
  report.detail(S, `data check after shutdown: ${check.stored}/${expected.length} MessageSids stored, ${check.duplicates} duplicates, ${check.misrouted} misrouted; ${failed} requests not answered 2xx`);

  const row: Row = { scenario: S, metric: 'saturation throughput (webhooks/s)', value: fmt(run.throughput) };
  report.add(row);
  report.add({ scenario: S, metric: 'latency p50/p95/p99 (ms)', value: `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p95, 2)} / ${fmt(run.latencyMs.p99, 2)}` });
  report.add({
    scenario: S,
    metric: 'stored exactly once (lost / duplicated / misrouted)',
    value: `${check.stored}/${expected.length} (${missing} / ${check.duplicates} / ${check.misrouted})`,
    target: 'zero loss and duplicates',
    verdict: check.duplicates === 0 && check.misrouted === 0 && missing <= failed ? 'OK' : 'FAIL',
  });
  report.headline.pglite = fmt(run.throughput);
  return { row, throughput: run.throughput };
}

async function verifyPglite(dir: string, expected: readonly ExpectedMessage[]): Promise<{ stored: number; duplicates: number; misrouted: number }> {
  const pg = new PGlite(dir);
  try {
    await pg.waitReady;
    await pg.exec('create temp table bench_expected (sid text, tenant_id uuid, account_id uuid, to_e164 text, from_e164 text)');
    for (let i = 0; i < expected.length; i += 5000) {
      const part = expected.slice(i, i + 5000);
      await pg.query(
        'insert into bench_expected select * from unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])',
        [part.map((e) => e.sid), part.map((e) => e.tenantId), part.map((e) => e.accountId), part.map((e) => e.to), part.map((e) => e.from)],
      );
    }
    const res = await pg.query<{ stored: number; rows: number; misrouted: number }>(`
      select count(distinct m.twilio_sid)::int as stored, count(m.id)::int as rows,
        count(*) filter (where m.tenant_id is distinct from e.tenant_id or m.twilio_account_id is distinct from e.account_id
          or c.tenant_id is distinct from e.tenant_id or p.e164 is distinct from e.to_e164
          or ct.phone_number is distinct from e.from_e164)::int as misrouted
      from bench_expected e
      join messages m on m.twilio_sid = e.sid
      left join conversations c on c.id = m.conversation_id
      left join phone_numbers p on p.id = c.phone_number_id
      left join contacts ct on ct.id = c.contact_id`);
    const row = res.rows[0]!;
    return { stored: row.stored, duplicates: row.rows - row.stored, misrouted: row.misrouted };
  } finally {
    await pg.close();
  }
}
