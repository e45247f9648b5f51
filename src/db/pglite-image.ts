/**
 * The PGlite data-directory image (issue 16: start-up). A new DATA_DIR used to start with
 * PGlite's initdb and then every migration, 5-8 s; it now starts from a copy of a data directory
 * made the same way at build time (`npm run prepare`, see pglite-image-build.ts), which is just
 * a directory copy. The image is keyed by what decides its content, the migrations as the
 * migrator reads them and the PGlite version: an image of another key is never used, and the
 * migration check still runs after the copy, so a stale image could not skip a migration anyway.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** Where `npm run prepare` puts images: dist/pglite-image/<key>/ (found from src/db/ and dist/start/ alike). */
export const PGLITE_IMAGE_ROOT = resolve(import.meta.dirname, '../../dist/pglite-image');

/** Bumped when what an image holds or how it is made changes. */
const IMAGE_FORMAT = 'pglite-image/1';

let pgliteVersion: string | null = null;
function installedPgliteVersion(): string {
  if (pgliteVersion) return pgliteVersion;
  // The package does not export its package.json: found from its entry point (dist/index.cjs).
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return (pgliteVersion = manifest.version);
}

/**
 * What the image's content depends on: the journal and each migration's SQL (what drizzle's
 * migrator reads), the extensions the migrations create, and the PGlite version (Postgres
 * version, data-directory format).
 */
export function pgliteImageKey(migrationsFolder: string, extensionNames: readonly string[]): string {
  const hash = createHash('sha256');
  const part = (text: string | Buffer) => hash.update(`${Buffer.byteLength(text)}:`).update(text);
  part(IMAGE_FORMAT);
  part(installedPgliteVersion());
  part([...extensionNames].sort().join(','));
  const journal = readFileSync(join(migrationsFolder, 'meta', '_journal.json'));
  part(journal);
  const { entries } = JSON.parse(journal.toString('utf8')) as { entries: { tag: string }[] };
  for (const { tag } of entries) {
    part(tag);
    part(readFileSync(join(migrationsFolder, `${tag}.sql`)));
  }
  return hash.digest('hex').slice(0, 32);
}

/** A new PGlite data directory: absent, or an empty folder. */
export function isNewPgliteDir(pgDataDir: string): boolean {
  return !existsSync(pgDataDir) || readdirSync(pgDataDir).length === 0;
}

/**
 * Fills a new PGlite data directory from the image of this key, if there is one. Copied beside
 * and renamed into place, so an interrupted copy never leaves a half database that a later start
 * would take for an existing one. Returns whether the image was used.
 */
export function copyPgliteImage(imageRoot: string, key: string, pgDataDir: string): boolean {
  const image = join(imageRoot, key);
  if (!existsSync(join(image, 'PG_VERSION')) || !isNewPgliteDir(pgDataDir)) return false;
  const tmp = `${pgDataDir}.image-${process.pid}.tmp`;
  try {
    cpSync(image, tmp, { recursive: true });
    try {
      // rename() replaces an empty folder, never a filled one.
      renameSync(tmp, pgDataDir);
    } catch (err) {
      // Another start filled it meanwhile: PGlite opens that one.
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
