import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { TenantRepository } from '../../src/db/tenant-repository.js';
import { repositoryQueries, type FunctionQueries, type QueryCatalogEntry, type RepositoryQueries } from '../../src/db/query-catalog.js';
import { FIXTURE } from '../../src/db/query-catalog.js';
import { contacts } from '../../src/modules/contacts/contacts.schema.js';
import { ContactsRepository } from '../../src/modules/contacts/contacts.repository.js';
import { conversations } from '../../src/modules/conversations/conversations.schema.js';
import {
  captureAll,
  loadCatalogs,
  MODULES_DIR,
  renderSnapshot,
  ROOT,
  SNAPSHOT_DIR,
  UNBOUND_WARNING,
  type CapturedCall,
  type CatalogFile,
} from './capture.js';

// The committed SQL of every repository method (test/queries/sql/*.sql) is what the code sends today.
// On a failure here: run `npm run sql:snapshots`, then read the diff of test/queries/sql/ like code.
// Captured on PGlite in both the PGlite and the Postgres run: drizzle writes the same SQL text for
// both drivers, and a fixed in-memory database keeps the capture deterministic.
let catalogs: CatalogFile[];
let captured: Map<string, CapturedCall[]>;

beforeAll(async () => {
  catalogs = await loadCatalogs();
  captured = await captureAll(catalogs);
}, 120_000);

const isClass = (value: unknown): value is abstract new (...args: never[]) => unknown =>
  typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value));
const isAsyncFunction = (value: unknown): boolean => typeof value === 'function' && value.constructor.name === 'AsyncFunction';

describe('SQL snapshots (test/queries/sql)', () => {
  it('match the SQL the repositories send (npm run sql:snapshots updates them)', () => {
    const stale: string[] = [];
    for (const [feature, calls] of captured) {
      const path = resolve(SNAPSHOT_DIR, `${feature}.sql`);
      const committed = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
      if (committed !== renderSnapshot(feature, calls)) stale.push(relative(ROOT, path));
    }
    const extra = readdirSync(SNAPSHOT_DIR).filter((name) => name.endsWith('.sql') && !captured.has(name.replace(/\.sql$/, '')));
    expect({ stale, extra }, 'run `npm run sql:snapshots` and review the diff of test/queries/sql/').toEqual({ stale: [], extra: [] });
  });

  it('runs every call cleanly against the fixture, and every statement carries the tenant unless declared cross-tenant', () => {
    const problems: string[] = [];
    for (const calls of captured.values()) {
      for (const call of calls) {
        if (call.error) problems.push(`${call.title}: ${call.error.split('\n')[0]}`);
        if (call.statements.length === 0) problems.push(`${call.title}: sent no statement`);
        if (!call.crossTenant && call.statements.some((s) => !s.tenantBound)) problems.push(`${call.title}: a statement without the tenant id`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('cover every repository class method and exported repository function', async () => {
    const repositoryEntries = catalogs.flatMap((c) => c.entries).filter((e): e is RepositoryQueries<unknown> => 'repository' in e);
    const functionNames = new Set(
      catalogs.flatMap((c) => c.entries).flatMap((e) => ('functions' in e ? Object.keys((e as FunctionQueries).functions) : [])),
    );
    const missing: string[] = [];
    for (const feature of readdirSync(MODULES_DIR)) {
      for (const name of readdirSync(resolve(MODULES_DIR, feature)).filter((n) => n.endsWith('.repository.ts'))) {
        const path = resolve(MODULES_DIR, feature, name);
        const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
        // Private helpers run inside the public methods that call them.
        const hidden = new Set([...readFileSync(path, 'utf8').matchAll(/(?:private|protected)\s+(?:async\s+)?(\w+)\s*\(/g)].map((m) => m[1]));
        for (const [exported, value] of Object.entries(mod)) {
          if (isClass(value)) {
            const entry = repositoryEntries.find((e) => e.repository === value);
            if (!entry) {
              missing.push(`${feature}/${name}: ${exported} has no entry in src/modules/${feature}/${feature}.queries.ts`);
              continue;
            }
            const methods = Object.getOwnPropertyNames(value.prototype).filter((m) =>
              isAsyncFunction(Object.getOwnPropertyDescriptor(value.prototype, m)?.value),
            );
            for (const m of methods) if (!hidden.has(m) && !(m in (entry.calls as object))) missing.push(`${exported}.${m}`);
          } else if (isAsyncFunction(value) && !functionNames.has(exported)) {
            missing.push(`${feature}/${name}: function ${exported}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('flag a statement that lacks the tenant filter', async () => {
    // A repository method that forgot scoped(): the snapshot marks it and the check above fails.
    class ForgetfulRepository extends TenantRepository {
      async findById(id: string) {
        return this.db.select().from(conversations).where(eq(conversations.id, id));
      }
    }
    const entry: QueryCatalogEntry = repositoryQueries({
      repository: ForgetfulRepository,
      calls: { findById: (r) => r.findById(FIXTURE.conversationId) },
    });
    const result = await captureAll([{ feature: 'forgetful', path: '', entries: [entry] }]);
    const [call] = result.get('forgetful')!;
    expect(call!.statements).toHaveLength(1);
    expect(call!.statements[0]!.tenantBound).toBe(false);
    expect(renderSnapshot('forgetful', result.get('forgetful')!)).toContain(UNBOUND_WARNING);
  });

  it("runs an entry's setUp in each call's transaction, and rolls it back", async () => {
    const contactId = '00000000-0000-4000-8000-0000000a0001';
    let found: unknown[] = [];
    const entry: QueryCatalogEntry = repositoryQueries({
      repository: ContactsRepository,
      setUp: async (db) => {
        await db.insert(contacts).values({ id: contactId, tenantId: FIXTURE.tenantId, phoneNumber: '+15550109999' });
      },
      calls: {
        upsertByPhone: (r) => r.upsertByPhone('+15550109998'),
        findById: async (r) => (found = [await r.findById(contactId)]),
        findByIds: (r) => r.findByIds([contactId]),
        setOptedOut: (r) => r.setOptedOut(contactId, true),
        list: (r) => r.list(20, null, null),
        update: (r) => r.update(contactId, { name: 'Ada' }),
      },
    });
    // setUp runs before each of the six calls: from the second on, its insert would hit the
    // primary key had the previous call's transaction not been rolled back.
    const calls = (await captureAll([{ feature: 'set-up', path: '', entries: [entry] }])).get('set-up')!;
    expect(calls).toHaveLength(6);
    expect(calls.map((c) => c.error)).toEqual(calls.map(() => undefined));
    expect(found).toMatchObject([{ id: contactId }]);
  });
});
