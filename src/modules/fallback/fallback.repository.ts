import { and, count, eq, gt, lte, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { fallbackAnswers } from './fallback.schema.js';

/** What the shared loop guard decided for one fallback call. */
export type FallbackVerdict = 'answer' | 'already-answered' | 'loop-guard';

/**
 * The fallback URL's answers, shared by every instance (fallback_answers): one FAILURE text per
 * MessageSid, and at most `bound` per (account, contact) within the hour, whichever instance
 * Twilio calls. Decisions for one (account, contact) are serialised by a transaction-scoped
 * advisory lock, so two instances cannot both take the last place under the bound.
 */
export class FallbackAnswersRepository extends TenantRepository {
  async decide(twilioAccountId: string, contactPhone: string, messageSid: string, bound: number): Promise<FallbackVerdict> {
    return this.db.transaction(async (tx) => {
      const forContact = and(
        eq(fallbackAnswers.tenantId, this.tenantId),
        eq(fallbackAnswers.twilioAccountId, twilioAccountId),
        eq(fallbackAnswers.contactPhone, contactPhone),
      );
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${this.tenantId}::text), hashtext(${`fallback:${twilioAccountId}:${contactPhone}`}))`);
      const [seen] = await tx
        .select({ sid: fallbackAnswers.messageSid })
        .from(fallbackAnswers)
        .where(this.scoped(fallbackAnswers, eq(fallbackAnswers.messageSid, messageSid)));
      if (seen) return 'already-answered';
      await tx.delete(fallbackAnswers).where(and(forContact, lte(fallbackAnswers.answeredAt, sql`now() - interval '1 hour'`)));
      const [recent] = await tx
        .select({ n: count() })
        .from(fallbackAnswers)
        .where(and(forContact, gt(fallbackAnswers.answeredAt, sql`now() - interval '1 hour'`)));
      if ((recent?.n ?? 0) >= bound) return 'loop-guard';
      await tx.insert(fallbackAnswers).values({ tenantId: this.tenantId, twilioAccountId, contactPhone, messageSid });
      return 'answer';
    });
  }
}
