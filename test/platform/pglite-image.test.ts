import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MIGRATIONS_FOLDER, PGLITE_EXTENSIONS, rowsOf, sql } from '../../src/db/client.js';
import { pgliteImageKey } from '../../src/db/pglite-image.js';
import { buildPgliteImage } from '../../src/db/pglite-image-build.js';

// A new DATA_DIR starts from the build's data-directory image instead of initdb + migrations
// (src/db/pglite-image.ts). Each case builds its own images in its own folders.

interface Journal {
  entries: { tag: string; when: number }[];
}
const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as Journal;

const tmp = mkdtempSync(join(tmpdir(), 'sms-inbox-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const folder = (name: string) => join(tmp, `${name}-${++n}`);

async function start(dataDir: string, imageRoot: string | null): Promise<RunningApp> {
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
  return startApp(config, { pgliteImageRoot: imageRoot });
}

/** Every committed migration is recorded as applied, each once, in order. */
async function appliedMigrations(app: RunningApp): Promise<number[]> {
  const rows = rowsOf<{ created_at: string | number }>(
    await app.deps.db.execute(sql`select created_at from drizzle.__drizzle_migrations order by created_at`),
  );
  return rows.map((r) => Number(r.created_at));
}

async function emails(app: RunningApp): Promise<string[]> {
  return rowsOf<{ email: string }>(await app.deps.db.execute(sql`select email from users`)).map((u) => u.email);
}

async function signUpAndMe(app: RunningApp, email: string): Promise<unknown> {
  const gql = async (query: string, token?: string) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: any; errors?: unknown };
  };
  const signUp = await gql(
    `mutation { signUp(input: { tenantName: "Imaged", name: "I", email: "${email}", password: "long enough" }) { token user { id } } }`,
  );
  expect(signUp.errors).toBeUndefined();
  const me = await gql('{ me { email } }', signUp.data.signUp.token);
  return me.data;
}

const allMigrations = journal.entries.map((e) => e.when);

describe('PGlite data-directory image', () => {
  let imageRoot: string;
  let key: string;

  beforeAll(async () => {
    imageRoot = folder('images');
    const build = await buildPgliteImage({ imageRoot });
    key = build.key;
    expect(build).toMatchObject({ built: true, key: pgliteImageKey(MIGRATIONS_FOLDER, Object.keys(PGLITE_EXTENSIONS)) });
    // A second build of the same migrations finds it and does nothing.
    expect(await buildPgliteImage({ imageRoot })).toMatchObject({ built: false, key });
  }, 180_000);

  it('starts a new DATA_DIR from the image with every migration applied, and the data stays on restart', async () => {
    const dataDir = folder('data');
    const first = await start(dataDir, imageRoot);
    try {
      expect(first.deps.database.pgliteDataDir).toBe('image');
      expect(await appliedMigrations(first)).toEqual(allMigrations);
      expect(await signUpAndMe(first, 'image@example.com')).toEqual({ me: { email: 'image@example.com' } });
    } finally {
      await first.close();
    }
    // The image is copied, never shared: it is unchanged for the next new DATA_DIR.
    expect(existsSync(join(imageRoot, key, 'PG_VERSION'))).toBe(true);

    const second = await start(dataDir, imageRoot);
    try {
      expect(second.deps.database.pgliteDataDir).toBe('existing');
      expect(await appliedMigrations(second)).toEqual(allMigrations);
      expect(await emails(second)).toEqual(['image@example.com']);
    } finally {
      await second.close();
    }

    // Another new DATA_DIR from the same image holds none of the first one's data.
    const third = await start(folder('data'), imageRoot);
    try {
      expect(third.deps.database.pgliteDataDir).toBe('image');
      expect(rowsOf(await third.deps.db.execute(sql`select 1 from users`))).toEqual([]);
    } finally {
      await third.close();
    }
  }, 180_000);

  it('ignores an image made from other migrations, and the migration check still runs after a copy', async () => {
    // Migrations as they were one migration ago: their image has another key.
    const older = folder('older-migrations');
    cpSync(MIGRATIONS_FOLDER, older, { recursive: true });
    const last = journal.entries.at(-1)!;
    writeFileSync(join(older, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, -1) }));
    rmSync(join(older, `${last.tag}.sql`));
    const staleRoot = folder('stale-images');
    const stale = await buildPgliteImage({ imageRoot: staleRoot, migrationsFolder: older });
    expect(stale.key).not.toBe(key);

    const ignored = await start(folder('data'), staleRoot);
    try {
      expect(ignored.deps.database.pgliteDataDir).toBe('initdb');
      expect(await appliedMigrations(ignored)).toEqual(allMigrations);
    } finally {
      await ignored.close();
    }

    // Even an image filed under the current key but one migration behind cannot skip that
    // migration: the migrator applies it after the copy.
    renameSync(stale.dir, join(staleRoot, key));
    const caughtUp = await start(folder('data'), staleRoot);
    try {
      expect(caughtUp.deps.database.pgliteDataDir).toBe('image');
      expect(await appliedMigrations(caughtUp)).toEqual(allMigrations);
      expect(await signUpAndMe(caughtUp, 'caught-up@example.com')).toEqual({ me: { email: 'caught-up@example.com' } });
    } finally {
      await caughtUp.close();
    }
  }, 300_000);

  it('uses no image when told not to, and never copies over an existing data directory', async () => {
    const dataDir = folder('data');
    const plain = await start(dataDir, null);
    try {
      expect(plain.deps.database.pgliteDataDir).toBe('initdb');
      expect(await appliedMigrations(plain)).toEqual(allMigrations);
      await signUpAndMe(plain, 'kept@example.com');
    } finally {
      await plain.close();
    }
    const again = await start(dataDir, imageRoot);
    try {
      expect(again.deps.database.pgliteDataDir).toBe('existing');
      expect(await emails(again)).toEqual(['kept@example.com']);
    } finally {
      await again.close();
    }
  }, 180_000);
});
