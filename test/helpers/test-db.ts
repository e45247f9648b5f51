import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * Where a test file's server keeps its data. With TEST_DATABASE_URL set, a fresh database on that
 * server per call (so parallel files never collide, and LISTEN/NOTIFY stays within the file);
 * otherwise an in-memory PGlite.
 */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Env for loadConfig: DATABASE_URL or DATA_DIR. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { kind: 'pglite', env: { DATA_DIR: 'memory://' }, drop: async () => {} };

  const name = `sms_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url.toString() },
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}
