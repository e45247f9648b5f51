import { and, asc, eq, inArray, isNull, lt, lte, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { allColumns, builtOnce, columnList, setClauses, tableRow } from '../../db/sql.js';
import { rowsOf, type Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { messages } from '../messages/messages.schema.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { outbox, senderPacing } from './outbox.schema.js';

/** A job that may be claimed: due, and not leased (or its lease ran out, e.g. its dispatcher crashed). */
function dueConditions(): SQL[] {
  return [lte(outbox.nextAttemptAt, sql`now()`), or(isNull(outbox.lockedUntil), lt(outbox.lockedUntil, sql`now()`))!];
}

/** A claim's SET: leased to `workerId` for `leaseMs`, one attempt more (values, or placeholders of a statement built once). */
function leaseClauses(leaseMs: unknown, workerId: unknown) {
  return {
    attempts: sql`${outbox.attempts} + 1`,
    lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'`,
    lockedBy: sql`${workerId}`,
  };
}

/**
 * The unpaced claim (see claimUnpaced), built by drizzle once (builtOnce) rather than at every
 * claim: lease()'s statement over its locking subquery, every column returned.
 */
const claimUnpacedStatement = builtOnce<'leaseMs' | 'workerId' | 'limit'>(() => {
  const p = sql.placeholder;
  return sql`update ${outbox} set ${setClauses(outbox, leaseClauses(p('leaseMs'), p('workerId')))}
    where ${outbox.id} in (select ${outbox.id} from ${outbox}
      where ${and(...dueConditions())}
      order by ${outbox.nextAttemptAt} asc, ${outbox.id} asc
      limit ${p('limit')}
      for update skip locked)
    returning ${allColumns(outbox)}`;
});

/** Writes a tenant's outbox jobs, inside the transaction that writes their messages. */
export class OutboxRepository extends TenantRepository {
  async enqueue(messageId: string, phoneNumberId: string): Promise<void> {
    await this.db.insert(outbox).values({ tenantId: this.tenantId, messageId, phoneNumberId });
  }
}

/**
 * Jobs inserted from `rows` (tenant_id, message_id, phone_number_id), as a CTE of the statement
 * that writes their messages; the columns OutboxRepository.enqueue fills, the rest defaulted.
 */
export function enqueueSql(rows: SQL): SQL {
  return sql`insert into ${outbox} (${columnList(outbox.tenantId, outbox.messageId, outbox.phoneNumberId)}) ${rows}`;
}

export interface ClaimedJob {
  id: number;
  tenantId: string;
  messageId: string;
  phoneNumberId: string;
  /** Claims so far, this one included. */
  attempts: number;
  /** An earlier attempt may have reached Twilio (outbox.maybe_sent): look before sending. */
  maybeSent: boolean;
  /** How long to wait before sending, so the sender keeps its pace (0 without pacing). */
  delayMs: number;
}

export interface PacingRates {
  /** Segments per second per sending number, by number type. */
  mps: Record<NumberType, number>;
  /** How far ahead a claim may schedule a paced sender's sends. */
  horizonMs: number;
}

export interface ClaimOptions {
  limit: number;
  leaseSeconds: number;
  /** null: no pacing, every due job is claimable. */
  pacing: PacingRates | null;
}

/** Postgres clock, in ms since the epoch, so every instance paces against one clock. */
const dbNowMs = sql<number>`(extract(epoch from now()) * 1000)::float8`.mapWith(Number);

/**
 * The queue side of the outbox, used by the dispatchers. Not tenant-bound on purpose: a
 * dispatcher claims due jobs of every tenant, then handles each one through repositories bound
 * to that job's tenant. Every write after the claim is fenced by `locked_by`, so a dispatcher
 * that lost its lease (it stalled past it and someone else took the job) changes nothing.
 */
export class OutboxQueue {
  constructor(
    private readonly db: Db,
    /** This dispatcher's identity in locked_by. */
    readonly workerId: string,
  ) {}

  /** Same queue on another connection or transaction. */
  with(db: Db): OutboxQueue {
    return new OutboxQueue(db, this.workerId);
  }

  /**
   * Claims up to `limit` due jobs: not leased (or lease expired, e.g. its dispatcher crashed)
   * and past next_attempt_at. `FOR UPDATE SKIP LOCKED` lets several dispatchers claim at once
   * without waiting on or double-taking each other's rows; the lease makes the claim outlive
   * this short transaction.
   *
   * With pacing, a sender (our number) gets a send schedule kept in sender_pacing, shared by all
   * instances: each claimed job takes the next slot (its segments / the sender's rate), and only
   * jobs whose slot falls within the horizon are claimed; the rest stay queued for later rounds.
   */
  async claim(opts: ClaimOptions): Promise<ClaimedJob[]> {
    if (opts.limit <= 0) return [];
    if (!opts.pacing) return this.claimUnpaced(opts.limit, opts.leaseSeconds);
    return this.db.transaction(async (tx) => {
      const horizon = opts.pacing ? sql`now() + ${opts.pacing.horizonMs} * interval '1 millisecond'` : null;
      const candidates = await tx
        .select({
          id: outbox.id,
          tenantId: outbox.tenantId,
          messageId: outbox.messageId,
          phoneNumberId: outbox.phoneNumberId,
          attempts: outbox.attempts,
          segments: messages.segments,
          numberType: phoneNumbers.type,
          now: dbNowMs,
        })
        .from(outbox)
        .innerJoin(messages, eq(messages.id, outbox.messageId))
        .innerJoin(phoneNumbers, eq(phoneNumbers.id, outbox.phoneNumberId))
        .leftJoin(senderPacing, eq(senderPacing.phoneNumberId, outbox.phoneNumberId))
        .where(
          and(
            ...dueConditions(),
            // Senders booked beyond the horizon are left out, so they do not crowd the others out.
            horizon ? or(isNull(senderPacing.nextSendAt), lte(senderPacing.nextSendAt, horizon)) : undefined,
          ),
        )
        .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
        // With pacing, look further than `limit`: many of the first rows may be one busy sender's.
        .limit(opts.pacing ? opts.limit * 4 : opts.limit)
        .for('update', { of: outbox, skipLocked: true });
      if (candidates.length === 0) return [];

      const nowMs = candidates[0]!.now;
      let chosen: Array<{ id: number; delayMs: number }>;
      if (!opts.pacing) {
        chosen = candidates.map((c) => ({ id: c.id, delayMs: 0 }));
      } else {
        chosen = await this.schedule(tx, candidates, nowMs, opts.limit, opts.pacing);
        if (chosen.length === 0) return [];
      }

      const ids = chosen.map((c) => c.id);
      const maxDelayMs = Math.max(0, ...chosen.map((c) => c.delayMs));
      // The lease covers the wait for the pacing slot as well as the send itself.
      const claimed = await this.lease(tx, ids, opts.leaseSeconds * 1000 + maxDelayMs);
      const delays = new Map(chosen.map((c) => [c.id, c.delayMs]));
      return claimed
        .map((row) => ({ ...row, delayMs: delays.get(row.id) ?? 0 }))
        .sort((a, b) => a.delayMs - b.delayMs || a.id - b.id);
    });
  }

  /**
   * Without pacing, a claim is one statement: the due jobs' rows locked (SKIP LOCKED), leased to
   * this dispatcher and counted as an attempt, in one UPDATE over its own locking subquery.
   */
  private async claimUnpaced(limit: number, leaseSeconds: number): Promise<ClaimedJob[]> {
    const result = await this.db.execute(claimUnpacedStatement({ leaseMs: leaseSeconds * 1000, workerId: this.workerId, limit }));
    return rowsOf<Record<string, unknown>>(result)
      .map((raw) => {
        const row = tableRow(outbox, raw);
        return { id: row.id, tenantId: row.tenantId, messageId: row.messageId, phoneNumberId: row.phoneNumberId, attempts: row.attempts, maybeSent: row.maybeSent, delayMs: 0 };
      })
      .sort((a, b) => a.id - b.id);
  }

  /** Leases the jobs (ids, or a locking subquery of them) to this dispatcher for `leaseMs` and counts an attempt. */
  private lease(db: Db, ids: number[] | SQLWrapper, leaseMs: number) {
    return db
      .update(outbox)
      .set(leaseClauses(leaseMs, this.workerId))
      .where(inArray(outbox.id, ids))
      .returning({
        id: outbox.id,
        tenantId: outbox.tenantId,
        messageId: outbox.messageId,
        phoneNumberId: outbox.phoneNumberId,
        attempts: outbox.attempts,
        maybeSent: outbox.maybeSent,
      });
  }

  /** Books pacing slots for the candidates, per sender, under a row lock on each sender's pace. */
  private async schedule(
    tx: Db,
    candidates: Array<{ id: number; phoneNumberId: string; segments: number; numberType: NumberType }>,
    nowMs: number,
    limit: number,
    pacing: PacingRates,
  ): Promise<Array<{ id: number; delayMs: number }>> {
    const senders = [...new Set(candidates.map((c) => c.phoneNumberId))];
    await tx
      .insert(senderPacing)
      .values(senders.map((phoneNumberId) => ({ phoneNumberId })))
      .onConflictDoNothing();
    // SKIP LOCKED: a sender another dispatcher is booking right now is simply left for the next round.
    const paces = await tx
      .select({ phoneNumberId: senderPacing.phoneNumberId, nextSendAtMs: sql<number>`(extract(epoch from ${senderPacing.nextSendAt}) * 1000)::float8`.mapWith(Number) })
      .from(senderPacing)
      .where(inArray(senderPacing.phoneNumberId, senders))
      .for('update', { skipLocked: true });

    const chosen: Array<{ id: number; delayMs: number }> = [];
    const booked: Array<{ phoneNumberId: string; nextSendAtMs: number }> = [];
    for (const pace of paces) {
      const rate = pacing.mps[candidates.find((c) => c.phoneNumberId === pace.phoneNumberId)!.numberType];
      let at = Math.max(pace.nextSendAtMs, nowMs);
      const start = at;
      for (const job of candidates) {
        if (job.phoneNumberId !== pace.phoneNumberId) continue;
        if (chosen.length >= limit || at > nowMs + pacing.horizonMs) break;
        chosen.push({ id: job.id, delayMs: Math.max(0, at - nowMs) });
        // Throughput is counted in segments; a media-only message still takes a slot.
        at += (Math.max(1, job.segments) * 1000) / rate;
      }
      if (at !== start) booked.push({ phoneNumberId: pace.phoneNumberId, nextSendAtMs: at });
    }
    for (const b of booked) {
      await tx
        .update(senderPacing)
        .set({ nextSendAt: sql`to_timestamp(${b.nextSendAtMs / 1000}::float8)` })
        .where(eq(senderPacing.phoneNumberId, b.phoneNumberId));
    }
    return chosen;
  }

  /** The job is over (SENT or FAILED, or there is nothing left to send): the row goes. */
  async complete(jobId: number): Promise<void> {
    await this.db.delete(outbox).where(and(eq(outbox.id, jobId), eq(outbox.lockedBy, this.workerId)));
  }

  /**
   * Back in the queue after a transient failure, due again after `delayMs`. `notTaken`: Twilio
   * answered this attempt with an error, so nothing of it is at Twilio to look for.
   */
  async reschedule(jobId: number, delayMs: number, lastError: string, notTaken = false): Promise<void> {
    await this.db
      .update(outbox)
      .set({
        nextAttemptAt: sql`now() + ${Math.max(0, Math.round(delayMs))} * interval '1 millisecond'`,
        lockedBy: null,
        lockedUntil: null,
        lastError: lastError.slice(0, 1000),
        ...(notTaken ? { maybeSent: false } : {}),
      })
      .where(and(eq(outbox.id, jobId), eq(outbox.lockedBy, this.workerId)));
  }

  /**
   * On shutdown: jobs claimed but not started go back to the queue at once (rather than after
   * their lease), and the claim does not count as an attempt. This attempt never called Twilio,
   * so the maybe_sent it set goes; `stillMaybeSent` are the jobs that were maybe_sent when
   * claimed (an earlier attempt's outcome is still unknown): they keep it.
   */
  async releaseHeld(stillMaybeSent: readonly number[] = []): Promise<number> {
    const rows = await this.db
      .update(outbox)
      .set({
        lockedBy: null,
        lockedUntil: null,
        attempts: sql`greatest(${outbox.attempts} - 1, 0)`,
        maybeSent: sql`${outbox.id} = any(${`{${stillMaybeSent.join(',')}}`}::bigint[])`,
      })
      .where(eq(outbox.lockedBy, this.workerId))
      .returning({ id: outbox.id });
    return rows.length;
  }
}
