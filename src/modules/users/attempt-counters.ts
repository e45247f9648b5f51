import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { AttemptCounters } from '../../shared/login-limiter.js';
import { consumeCounterPoint, deleteCounter, pruneCounters, rewardCounterPoint } from './limits.repository.js';

const PRUNE_EVERY_MS = 60_000;

/**
 * Attempt counters in the `rate_limit_counters` table: every instance on this database counts
 * into the same rows. Keys are hashed (no email or address is stored). Expired rows are deleted
 * at most once a minute per instance, on the way of an attempt.
 */
export class DbAttemptCounters implements AttemptCounters {
  private lastPrune = Date.now();

  constructor(private readonly db: Db) {}

  async consume(key: string, windowSeconds: number): Promise<{ points: number; msBeforeNext: number }> {
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await pruneCounters(this.db);
    }
    const row = await consumeCounterPoint(this.db, hashed(key), windowSeconds);
    return { points: row.points, msBeforeNext: Math.max(0, row.expiresAt.getTime() - Date.now()) };
  }

  reward(key: string): Promise<void> {
    return rewardCounterPoint(this.db, hashed(key));
  }

  delete(key: string): Promise<void> {
    return deleteCounter(this.db, hashed(key));
  }
}

function hashed(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
