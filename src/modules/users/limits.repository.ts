import { and, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { liveInstances, liveSockets, rateLimitCounters } from './limits.schema.js';

/**
 * Takes one point of a fixed-window counter, atomically on every instance (an upsert locks the
 * row): a new or expired window starts at 1. Returns the points taken in the window and when it ends.
 */
export async function consumeCounterPoint(db: Db, key: string, windowSeconds: number): Promise<{ points: number; expiresAt: Date }> {
  const fresh = sql`now() + make_interval(secs => ${windowSeconds})`;
  const expired = sql`${rateLimitCounters.expiresAt} <= now()`;
  const [row] = await db
    .insert(rateLimitCounters)
    .values({ key, points: 1, expiresAt: fresh })
    .onConflictDoUpdate({
      target: rateLimitCounters.key,
      set: {
        points: sql`case when ${expired} then 1 else ${rateLimitCounters.points} + 1 end`,
        expiresAt: sql`case when ${expired} then excluded.expires_at else ${rateLimitCounters.expiresAt} end`,
      },
    })
    .returning({ points: rateLimitCounters.points, expiresAt: rateLimitCounters.expiresAt });
  return row!;
}

/** Gives one point back (never below zero). */
export async function rewardCounterPoint(db: Db, key: string): Promise<void> {
  await db
    .update(rateLimitCounters)
    .set({ points: sql`greatest(${rateLimitCounters.points} - 1, 0)` })
    .where(eq(rateLimitCounters.key, key));
}

export async function deleteCounter(db: Db, key: string): Promise<void> {
  await db.delete(rateLimitCounters).where(eq(rateLimitCounters.key, key));
}

export async function pruneCounters(db: Db): Promise<void> {
  await db.delete(rateLimitCounters).where(lte(rateLimitCounters.expiresAt, sql`now()`));
}

/**
 * Registers a socket of the user unless the user already has `max` live ones on any instance
 * (sockets of an instance whose row has expired do not count). A transaction-scoped advisory
 * lock per user serializes concurrent registrations of one user (on every instance), so the
 * count and the insert cannot interleave. Null when over the cap. The instance's row is created
 * with its first socket (and revived if it had expired while this instance stalled); otherwise
 * the registration leaves it alone, so registrations of different users do not queue on it.
 */
export async function registerLiveSocket(
  db: Db,
  input: { userId: string; instanceId: string; ttlSeconds: number; max: number },
): Promise<string | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`live-sockets:${input.userId}`}, 0))`);
    // Not one upsert with `do update ... where expired`: ON CONFLICT DO UPDATE locks the existing
    // row even when its WHERE is false, so every registration on this instance queued on the
    // instance's row until the previous one committed (1,000 sockets connecting at once: ~20 ms
    // each, in turn). DO NOTHING and an UPDATE whose WHERE does not match lock nothing.
    await tx.execute(sql`with created as (
        insert into ${liveInstances} (${sql.identifier(liveInstances.instanceId.name)}, ${sql.identifier(liveInstances.expiresAt.name)})
        values (${input.instanceId}, now() + make_interval(secs => ${input.ttlSeconds}))
        on conflict (${sql.identifier(liveInstances.instanceId.name)}) do nothing
      )
      update ${liveInstances} set ${sql.identifier(liveInstances.expiresAt.name)} = now() + make_interval(secs => ${input.ttlSeconds})
      where ${liveInstances.instanceId} = ${input.instanceId} and ${liveInstances.expiresAt} <= now()`);
    const [{ n } = { n: 0 }] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(liveSockets)
      .innerJoin(liveInstances, eq(liveInstances.instanceId, liveSockets.instanceId))
      .where(and(eq(liveSockets.userId, input.userId), gt(liveInstances.expiresAt, sql`now()`)));
    if (n >= input.max) return null;
    const [row] = await tx.insert(liveSockets).values({ userId: input.userId, instanceId: input.instanceId }).returning({ id: liveSockets.id });
    return row!.id;
  });
}

export async function releaseLiveSocket(db: Db, id: string): Promise<void> {
  await db.delete(liveSockets).where(eq(liveSockets.id, id));
}

/**
 * Keeps this instance's row alive (one row, however many sockets) and drops every expired
 * instance, with its sockets (cascade): those of instances that died without closing them.
 */
export async function heartbeatLiveSockets(db: Db, instanceId: string, ttlSeconds: number): Promise<void> {
  await db
    .insert(liveInstances)
    .values({ instanceId, expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})` })
    .onConflictDoUpdate({ target: liveInstances.instanceId, set: { expiresAt: sql`excluded.expires_at` } });
  await db.delete(liveInstances).where(lte(liveInstances.expiresAt, sql`now()`));
}

/** At shutdown: this instance's sockets are closed (its row goes, and its sockets' rows with it). */
export async function releaseInstanceSockets(db: Db, instanceId: string): Promise<void> {
  await db.delete(liveInstances).where(eq(liveInstances.instanceId, instanceId));
}
