// `prepare` (run by `npm ci` and `npm install`): builds the agent console into web/dist, which
// the server serves at /. A production-only install (`npm ci --omit=dev`) has no Vite: it skips,
// and the server then answers / with a hint (the Dockerfile copies the build from its build stage).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
let viteBin;
try {
  viteBin = fileURLToPath(new URL('bin/vite.js', pathToFileURL(require.resolve('vite/package.json'))));
} catch {
  console.log('web/build.mjs: Vite is not installed (production install); the agent console is not built.');
  process.exit(0);
}
const config = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const result = spawnSync(process.execPath, [viteBin, 'build', '--config', config, '--logLevel', 'warn'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
