import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedEnv, startChildServer } from '../helpers/child-server.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('restart', () => {
  it('keeps tenants, users and tokens valid across a crash (SIGKILL) and a start on the same data', async () => {
    // A real server process; PGlite on disk, or a fresh Postgres database when TEST_DATABASE_URL is set.
    let env: Record<string, string>;
    if (usingPostgres) {
      const database: TestDatabase = await createTestDatabase();
      cleanups.push(() => database.drop());
      env = sharedEnv(database.env.DATABASE_URL!);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'sms-inbox-restart-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const { DATABASE_URL: _none, ...rest } = sharedEnv('postgres://unused');
      env = { ...rest, DATA_DIR: dir };
    }

    const first = await startChildServer(env, 60_000);
    const signUp = await first.gql(
      'mutation { signUp(input: { tenantName: "Survives Crashes", name: "S", email: "crash@example.com", password: "long enough" }) { token user { id tenant { id slug } } } }',
    );
    expect(signUp.errors).toBeUndefined();
    const { token, user } = signUp.data!.signUp as { token: string; user: { id: string; tenant: { id: string; slug: string } } };
    // No graceful shutdown: what was answered must already be on disk.
    await first.kill();

    const second = await startChildServer(env, 60_000);
    try {
      const me = await second.gql('{ me { id tenant { id slug } } }', {}, token);
      expect(me.data).toEqual({ me: { id: user.id, tenant: user.tenant } });
      const login = await second.gql('mutation { logIn(input: { email: "crash@example.com", password: "long enough" }) { user { id } } }');
      expect(login.data).toEqual({ logIn: { user: { id: user.id } } });
    } finally {
      await second.stop();
    }
  }, 150_000);
});
