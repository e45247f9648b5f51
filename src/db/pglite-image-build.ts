/**
 * Builds the PGlite data-directory image (pglite-image.ts) exactly the way a new DATA_DIR starts
 * without one: PGlite's initdb on disk, every migration through migrateDatabase, a clean close.
 * `node scripts/start.mjs --build-only` (npm run prepare) runs it from its bundle
 * (dist/start/pglite-image-build.js); tests run it with their own folders.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../shared/logger.js';
import { MIGRATIONS_FOLDER, PGLITE_EXTENSIONS, migrateDatabase, openDatabase } from './client.js';
import { PGLITE_IMAGE_ROOT, pgliteImageKey } from './pglite-image.js';

export interface PgliteImageBuild {
  key: string;
  dir: string;
  /** false: an image of this key was there already. */
  built: boolean;
}

export async function buildPgliteImage(
  opts: { imageRoot?: string; migrationsFolder?: string } = {},
): Promise<PgliteImageBuild> {
  const imageRoot = opts.imageRoot ?? PGLITE_IMAGE_ROOT;
  const migrationsFolder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
  const key = pgliteImageKey(migrationsFolder, Object.keys(PGLITE_EXTENSIONS));
  const dir = join(imageRoot, key);
  if (existsSync(join(dir, 'PG_VERSION'))) return { key, dir, built: false };

  mkdirSync(imageRoot, { recursive: true });
  // Built beside and renamed into place: a start never copies a half-built image.
  const work = mkdtempSync(join(imageRoot, '.build-'));
  try {
    const database = await openDatabase({ databaseUrl: null, dataDir: work, poolSize: 1, logger: createLogger('silent'), pgliteImageRoot: null });
    try {
      await migrateDatabase(database, migrationsFolder);
    } finally {
      await database.close();
    }
    try {
      renameSync(join(work, 'pglite'), dir);
    } catch (err) {
      // A concurrent build finished first: same key, same content.
      if (!existsSync(join(dir, 'PG_VERSION'))) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Images of other keys (older migrations, another PGlite) can never be used again.
  for (const name of readdirSync(imageRoot)) {
    if (name !== key && !name.startsWith('.')) rmSync(join(imageRoot, name), { recursive: true, force: true });
  }
  return { key, dir, built: true };
}
