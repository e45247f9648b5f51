import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signUpTenant } from '../helpers/factories.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { startTestServer } from '../helpers/test-server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('restart', () => {
  it('keeps tenants, users and tokens valid across a stop and start on the same data', async () => {
    let database: TestDatabase;
    const env: Record<string, string> = {};
    if (usingPostgres) {
      database = await createTestDatabase();
    } else {
      // PGlite on disk, with the development secrets kept beside it in DATA_DIR.
      const dir = mkdtempSync(join(tmpdir(), 'sms-inbox-restart-'));
      dirs.push(dir);
      database = { kind: 'pglite', env: { DATA_DIR: dir }, drop: async () => {} };
    }
    const first = await startTestServer(env, database);
    const t = await signUpTenant(first, 'Survives Restarts');
    await first.close({ dropDatabase: false });

    const second = await startTestServer(env, database);
    try {
      // Same secrets (generated once and kept) → the old token still works.
      if (!usingPostgres) {
        const me = await second.gql('{ me { id tenant { slug } } }', {}, t.token);
        expect(me.data).toEqual({ me: { id: t.userId, tenant: { slug: t.tenantSlug } } });
      }
      const login = await second.gql('mutation($i: LogInInput!) { logIn(input: $i) { user { id tenant { id } } } }', {
        i: { email: t.email, password: t.password },
      });
      expect(login.data).toEqual({ logIn: { user: { id: t.userId, tenant: { id: t.tenantId } } } });
    } finally {
      await second.close();
    }
  });
});
