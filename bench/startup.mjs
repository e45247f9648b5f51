// Start-up time of `npm start` (issue 16: fresh ≤ 5 s, restart ≤ 2 s): starts the server on the
// embedded database, waits for /healthz to answer 200, prints the milliseconds, then SIGKILLs it
// (so the figure and the process's wall time do not include a shutdown).
//   node bench/startup.mjs fresh            a new empty DATA_DIR: a copy of the data-directory image
//                                           (`npm run prepare`), or PGlite init + every migration
//   node bench/startup.mjs restart DIR      DIR already initialised (run `fresh` with DIR first)
// Timed as whole processes by farm-bench:  farm-bench -n 5 -- node bench/startup.mjs fresh
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [mode = 'fresh', given] = process.argv.slice(2);
const dataDir = given ?? mkdtempSync(join(tmpdir(), 'startup-'));

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

const t0 = performance.now();
const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
  cwd: root,
  env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'development' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let exited = false;
child.on('exit', () => (exited = true));

for (;;) {
  if (exited) {
    process.stderr.write('the server exited before /healthz answered\n');
    process.exit(1);
  }
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    if (res.status === 200) break;
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 20));
}
const ms = performance.now() - t0;
child.kill('SIGKILL');
process.stdout.write(`${mode}: /healthz after ${ms.toFixed(0)} ms\n`);
if (mode === 'fresh' && !given) rmSync(dataDir, { recursive: true, force: true });
