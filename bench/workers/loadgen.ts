/**
 * The load-generating process, separate from the harness, the server and the clients, and kept
 * for the whole run (starting a TypeScript process costs ~1.5 s): it runs autocannon jobs, the
 * open-loop paced sender and the direct-database ceiling, one job at a time.
 */
import { runAutocannon, type LoadJob } from './load.js';
import { runPaced, type PacedJob } from './paced-sender.js';
import { runDbCeiling, type DbCeilingJob } from './db-ceiling.js';
import { serve } from './ipc.js';

export type LoadgenJob =
  | { kind: 'autocannon'; job: LoadJob }
  | { kind: 'paced'; job: PacedJob }
  | { kind: 'db-ceiling'; job: DbCeilingJob };

serve<{ type: string; job?: LoadgenJob }>(async (m) => {
  if (m.type !== 'job' || !m.job) return undefined;
  const j = m.job;
  switch (j.kind) {
    case 'autocannon':
      return runAutocannon(j.job);
    case 'paced':
      return runPaced(j.job);
    case 'db-ceiling':
      return runDbCeiling(j.job);
  }
});
