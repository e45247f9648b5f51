// npm run sql:snapshots: rewrites test/queries/sql/*.sql from the query catalogs (see src/db/query-catalog.ts).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { captureAll, loadCatalogs, renderSnapshot, SNAPSHOT_DIR, UNBOUND_WARNING } from './capture.js';

const catalogs = await loadCatalogs();
const captured = await captureAll(catalogs);
mkdirSync(SNAPSHOT_DIR, { recursive: true });
const written = new Set<string>();
let warnings = 0;
for (const [feature, calls] of captured) {
  const text = renderSnapshot(feature, calls);
  warnings += text.split('\n').filter((l) => l === UNBOUND_WARNING || l.startsWith('-- ERROR')).length;
  writeFileSync(resolve(SNAPSHOT_DIR, `${feature}.sql`), text);
  written.add(`${feature}.sql`);
}
for (const name of readdirSync(SNAPSHOT_DIR)) if (name.endsWith('.sql') && !written.has(name)) rmSync(resolve(SNAPSHOT_DIR, name));
console.log(`wrote ${written.size} files to test/queries/sql/${warnings ? `; ${warnings} statements need attention (WARNING/ERROR lines)` : ''}`);
