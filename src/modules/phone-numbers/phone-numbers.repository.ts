import { asc, eq, isNull, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import type { NumberDirection, NumberType } from './phone-number.enums.js';
import { phoneNumbers, type PhoneNumberRow } from './phone-numbers.schema.js';

export interface NewPhoneNumber {
  twilioAccountId: string;
  e164: string;
  type: NumberType;
  direction: NumberDirection;
  description: string | null;
  messagingServiceSid: string | null;
  twilioNumberSid: string | null;
  configuredSmsUrl?: string | null;
  configuredSmsFallbackUrl?: string | null;
  teamId?: string | null;
}

/** What updatePhoneNumber may change. */
export type PhoneNumberChanges = Partial<Pick<NewPhoneNumber, 'type' | 'direction' | 'description' | 'messagingServiceSid' | 'teamId'>> & {
  operatingHoursId?: string | null;
};

/** Active numbers (not removed) unless said otherwise. */
export class PhoneNumbersRepository extends TenantRepository {
  /** Removed numbers included: conversations keep pointing at them (sending on one is refused). */
  async findById(id: string): Promise<PhoneNumberRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, eq(phoneNumbers.id, id))).limit(1);
    return row;
  }

  /** Removed numbers included, as findById. */
  async findByIds(ids: readonly string[]): Promise<PhoneNumberRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, anyUuid(phoneNumbers.id, valid)));
  }

  async listActive(): Promise<PhoneNumberRow[]> {
    return this.db
      .select()
      .from(phoneNumbers)
      .where(this.scoped(phoneNumbers, isNull(phoneNumbers.removedAt)))
      .orderBy(asc(phoneNumbers.createdAt), asc(phoneNumbers.id));
  }

  async listActiveByAccounts(accountIds: readonly string[]): Promise<PhoneNumberRow[]> {
    const valid = accountIds.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db
      .select()
      .from(phoneNumbers)
      .where(this.scoped(phoneNumbers, anyUuid(phoneNumbers.twilioAccountId, valid), isNull(phoneNumbers.removedAt)))
      .orderBy(asc(phoneNumbers.createdAt), asc(phoneNumbers.id));
  }

  /** Throws a unique violation (phone_numbers_active_e164_uq) when the number is active anywhere. */
  async insert(values: NewPhoneNumber): Promise<PhoneNumberRow> {
    const [row] = await this.db
      .insert(phoneNumbers)
      .values({ ...values, tenantId: this.tenantId })
      .returning();
    return row!;
  }

  /** Soft delete: conversations keep their number; the E.164 value is free again. */
  async remove(id: string): Promise<PhoneNumberRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(phoneNumbers)
      .set({ removedAt: sql`now()` })
      .where(this.scoped(phoneNumbers, eq(phoneNumbers.id, id), isNull(phoneNumbers.removedAt)))
      .returning();
    return row;
  }

  /** Changes an active number (updatePhoneNumber); undefined when there is none. */
  async update(id: string, changes: PhoneNumberChanges): Promise<PhoneNumberRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(phoneNumbers)
      .set(changes)
      .where(this.scoped(phoneNumbers, eq(phoneNumbers.id, id), isNull(phoneNumbers.removedAt)))
      .returning();
    return row;
  }

  /** Every active number of one account (disconnectTwilioAccount), in the caller's transaction. */
  async removeAllOfAccount(twilioAccountId: string): Promise<PhoneNumberRow[]> {
    return this.db
      .update(phoneNumbers)
      .set({ removedAt: sql`now()` })
      .where(this.scoped(phoneNumbers, eq(phoneNumbers.twilioAccountId, twilioAccountId), isNull(phoneNumbers.removedAt)))
      .returning();
  }

  /** Undoes an insert whose Twilio configuration then failed (nothing can reference it yet). */
  async deleteJustInserted(id: string): Promise<void> {
    await this.db.delete(phoneNumbers).where(this.scoped(phoneNumbers, eq(phoneNumbers.id, id)));
  }
}
