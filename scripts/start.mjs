// `npm start`: runs the server from one prebuilt ES module (dist/start/main.js, an esbuild bundle
// of src/ and of the packages it uses) instead of compiling TypeScript at every start (tsx).
// The bundle is built by `prepare` (npm ci) and rebuilt here, in a few seconds, whenever a file
// under src/, tsconfig.json, the installed packages or this script is newer than it, so an edited
// checkout never runs stale code.
// Two levels deep on purpose: src/db/*.ts and src/http/console.routes.ts find drizzle/, dist/ and
// web/dist/ at '../../' from their own module, which holds for dist/start/*.js too.
//
// `--build-only` (prepare) also builds the PGlite data-directory image (src/db/pglite-image.ts):
// a new DATA_DIR starts from a copy of it instead of running initdb and every migration. It is
// rebuilt when drizzle/ or the PGlite version changes; a plain start never builds it (a stale or
// missing image only means a new DATA_DIR starts the slow way).
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'start');
const out = join(outDir, 'main.js');
const imageBuilder = join(outDir, 'pglite-image-build.js');
const buildOnly = process.argv.includes('--build-only');

// Packages left out of the bundle, loaded from node_modules at run time:
const EXTERNAL = [
  // It finds its WebAssembly, file-system bundle and extension archives beside its own files.
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
  // Loaded only when first needed (src/twilio/client.ts; REDIS_URL; MEDIA_S3_BUCKET): inlined,
  // they would be parsed at every start (the twilio SDK alone is 7 MB of JavaScript).
  'twilio',
  'twilio/*',
  'ioredis',
  '@aws-sdk/*',
  // type-graphql imports it only when it validates inputs, which it does not here (services do).
  'class-validator',
];

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function newestInput() {
  // npm rewrites node_modules/.package-lock.json on every install: a changed package rebuilds.
  let newest = Math.max(
    ...['tsconfig.json', 'package-lock.json', 'node_modules/.package-lock.json', 'scripts/start.mjs'].map((f) => mtime(join(root, f))),
  );
  for (const name of readdirSync(join(root, 'src'), { recursive: true })) {
    const m = statSync(join(root, 'src', String(name))).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

export async function buildStartBundle() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { main: join(root, 'src', 'main.ts'), 'pglite-image-build': join(root, 'src', 'db', 'pglite-image-build.ts') },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages inside an ES module bundle still call require() (Node's own modules).
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);" },
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.json'),
    write: false,
  });
  // Written beside and renamed into place: two starts building at once (tests, two instances in
  // one checkout) never import a half-written bundle.
  mkdirSync(outDir, { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

const stale = !existsSync(out) || !existsSync(imageBuilder) || mtime(out) < newestInput();
if (stale || buildOnly) {
  try {
    await buildStartBundle();
  } catch (err) {
    // A production install has no esbuild: run what was built, if anything was.
    if (!existsSync(out)) {
      process.stderr.write(`Cannot build ${out} (${err instanceof Error ? err.message : err}); run \`npm ci\` (with dev dependencies) or \`npm run build && npm run start:prod\`.\n`);
      process.exit(1);
    }
    process.stderr.write(`warning: ${out} may be older than its sources and could not be rebuilt: ${err instanceof Error ? err.message : err}\n`);
  }
}
if (buildOnly) {
  const { buildPgliteImage } = await import(pathToFileURL(imageBuilder).href);
  await buildPgliteImage();
} else {
  await import(pathToFileURL(out).href);
}
