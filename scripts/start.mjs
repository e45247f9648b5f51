// `npm start`: runs the server from one prebuilt ES module (dist/start/main.js, an esbuild bundle
// of src/ with the packages left external) instead of compiling TypeScript at every start (tsx).
// The bundle is built by `prepare` (npm ci) and rebuilt here, in a second or two, whenever a file
// under src/ (or tsconfig.json) is newer than it, so an edited checkout never runs stale code.
// Two levels deep on purpose: src/db/client.ts and src/http/console.routes.ts find drizzle/ and
// web/dist/ at '../../' from their own module, which holds for dist/start/main.js too.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'start', 'main.js');

function newestSource() {
  let newest = statSync(join(root, 'tsconfig.json')).mtimeMs;
  for (const name of readdirSync(join(root, 'src'), { recursive: true })) {
    const mtime = statSync(join(root, 'src', String(name))).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

export async function buildStartBundle() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(root, 'src', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.json'),
    write: false,
  });
  // Written beside and renamed into place: two starts building at once (tests, two instances in
  // one checkout) never import a half-written bundle.
  mkdirSync(dirname(out), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

const stale = !existsSync(out) || statSync(out).mtimeMs < newestSource();
if (stale || process.argv.includes('--build-only')) {
  try {
    await buildStartBundle();
  } catch (err) {
    // A production install has no esbuild: run what was built, if anything was.
    if (!existsSync(out)) {
      process.stderr.write(`Cannot build ${out} (${err instanceof Error ? err.message : err}); run \`npm ci\` (with dev dependencies) or \`npm run build && npm run start:prod\`.\n`);
      process.exit(1);
    }
    process.stderr.write(`warning: ${out} may be older than src/ and could not be rebuilt: ${err instanceof Error ? err.message : err}\n`);
  }
}
if (!process.argv.includes('--build-only')) await import(pathToFileURL(out).href);
