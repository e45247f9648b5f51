import { sql } from 'drizzle-orm';
import { Counter, type Registry } from 'prom-client';
import { postgresError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { PeriodicTask } from '../shared/periodic-task.js';
import { rowsOf, type Db } from './client.js';

/**
 * Merges the pending lists of the schema's GIN indexes (the search trigram indexes an inbound
 * text writes) into the indexes, every `intervalMs`, from a background statement.
 *
 * A GIN index with fastupdate adds new entries to a pending list, and the insert that overflows
 * the list (`gin_pending_list_limit`) merges all of it, inside that insert's statement. A small
 * limit keeps each merge short but merges often, and each merge rewrites the posting lists of
 * every key it touches: at 128 kB the search index wrote 13 kB of WAL per inbound text against
 * 6 kB at the 4 MB default, and Postgres spent 0.73 ms of CPU per text against 0.59 (bench,
 * issue 16, tenth session). A large limit merges rarely but inside an ingest statement, which
 * then takes 55-95 ms (seventh session). Merged here instead, a second's texts at a time, no
 * ingest statement waits for a merge: a backend that finds a merge under way skips its own
 * (Postgres's ConditionalLockPage), and the 4 MB default stays as the bound should this stop.
 *
 * `gin_clean_pending_list` needs the index's owner (the role that ran the migrations, as the
 * server is); without that right the task logs it once and stops. Instances running it at once
 * take turns on the index's lock, and the later ones find the list empty.
 */
export class GinPendingListMerger {
  private readonly task: PeriodicTask;
  private mergedPages: Counter | null = null;
  /** Completed runs (tests); the pages they merged are counted on /metrics (gin_pending_pages_merged_total). */
  readonly stats = { runs: 0 };

  constructor(
    private readonly database: () => Db,
    /** 0: never started (SEARCH_INDEX_MERGE_MS=0); `merge()` still works when called. */
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask('gin-pending-merge', intervalMs, () => this.merge(), logger);
  }

  /** `gin_pending_pages_merged_total` on this app's /metrics. */
  registerMetrics(registry: Registry): void {
    this.mergedPages = new Counter({
      name: 'gin_pending_pages_merged_total',
      help: 'Pending-list pages of GIN (search) indexes merged into their indexes by the background task',
      registers: [registry],
    });
  }

  start(): void {
    if (this.intervalMs > 0) this.task.start();
  }

  /** Merging every interval: started, and not stopped (by `stop()` or for want of ownership). */
  get active(): boolean {
    return this.task.active;
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One round: every GIN index of the schema (found in the catalog each time, a few rows), one statement. */
  async merge(): Promise<number> {
    let pages: number;
    try {
      const [row] = rowsOf<{ pages: number | string }>(
        await this.database().execute(sql`
          select coalesce(sum(gin_clean_pending_list(i.oid::regclass)), 0)::int as pages
          from pg_class i join pg_am am on am.oid = i.relam
          where am.amname = 'gin' and i.relkind = 'i' and i.relnamespace = current_schema()::regnamespace`),
      );
      pages = Number(row?.pages ?? 0);
    } catch (err) {
      // insufficient_privilege: not the indexes' owner.
      if (postgresError(err, '42501')) {
        this.logger.warn({ err }, 'cannot merge the search indexes\' pending lists (not their owner): left to inserts and autovacuum');
        void this.task.stop();
        return 0;
      }
      throw err;
    }
    this.stats.runs++;
    if (pages > 0) this.mergedPages?.inc(pages);
    return pages;
  }
}
