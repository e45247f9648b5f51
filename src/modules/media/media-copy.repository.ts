import { and, eq, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { messages } from '../messages/messages.schema.js';
import { mediaCopyJobs } from './media-copy.schema.js';

export interface ClaimedCopyJob {
  id: number;
  tenantId: string;
  messageId: string;
  mediaIndex: number;
  attempts: number;
}

/**
 * The queue of inbound media copies, shared by every instance: claimed with FOR UPDATE SKIP
 * LOCKED and a lease (a crashed instance's jobs are taken again after it), every later write
 * fenced by `locked_by`. Not tenant-bound: a worker serves every tenant.
 */
export class MediaCopyQueue {
  constructor(
    private readonly db: Db,
    readonly workerId: string,
  ) {}

  with(db: Db): MediaCopyQueue {
    return new MediaCopyQueue(db, this.workerId);
  }

  async claim(limit: number, leaseSeconds: number): Promise<ClaimedCopyJob[]> {
    const result = await this.db.execute(sql`
      update media_copy_jobs set locked_by = ${this.workerId},
        locked_until = now() + ${leaseSeconds} * interval '1 second', attempts = attempts + 1
      where id in (
        select id from media_copy_jobs
        where next_attempt_at <= now() and (locked_until is null or locked_until < now())
        order by next_attempt_at, id
        limit ${limit}
        for update skip locked
      )
      returning id, tenant_id as "tenantId", message_id as "messageId", media_index as "mediaIndex", attempts
    `);
    return rowsOf<ClaimedCopyJob>(result).map((j) => ({ ...j, id: Number(j.id) }));
  }

  async complete(jobId: number): Promise<void> {
    await this.db.delete(mediaCopyJobs).where(and(eq(mediaCopyJobs.id, jobId), eq(mediaCopyJobs.lockedBy, this.workerId)));
  }

  async reschedule(jobId: number, delayMs: number, lastError: string): Promise<void> {
    await this.db
      .update(mediaCopyJobs)
      .set({
        nextAttemptAt: sql`now() + ${Math.round(delayMs)} * interval '1 millisecond'`,
        lockedBy: null,
        lockedUntil: null,
        lastError: lastError.slice(0, 1000),
      })
      .where(and(eq(mediaCopyJobs.id, jobId), eq(mediaCopyJobs.lockedBy, this.workerId)));
  }

  /** On shutdown: jobs held but not finished go back at once. */
  async releaseHeld(): Promise<void> {
    await this.db
      .update(mediaCopyJobs)
      .set({ lockedBy: null, lockedUntil: null })
      .where(eq(mediaCopyJobs.lockedBy, this.workerId));
  }
}

export class MediaCopyRepository extends TenantRepository {
  /** Records our copy of inbound item `index` on its message: served instead of Twilio's from now on. */
  async attachCopy(messageId: string, index: number, fileId: string): Promise<boolean> {
    const rows = await this.db
      .update(messages)
      .set({ media: sql`jsonb_set(${messages.media}, ${`{${index},fileId}`}::text[], to_jsonb(${fileId}::text))` })
      .where(this.scoped(messages, eq(messages.id, messageId), sql`jsonb_array_length(${messages.media}) > ${index}`))
      .returning({ id: messages.id });
    return rows.length > 0;
  }
}
