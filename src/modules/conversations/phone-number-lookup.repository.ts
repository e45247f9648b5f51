import { eq, inArray } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { isUuid } from './pagination.js';

/**
 * Read-only lookups of the tenant's numbers (removed ones included: conversations keep pointing
 * at them), for Conversation.phoneNumber and for sending. Writes belong to the phone-numbers module.
 */
export class PhoneNumberLookupRepository extends TenantRepository {
  async findById(id: string): Promise<PhoneNumberRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, eq(phoneNumbers.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<PhoneNumberRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, inArray(phoneNumbers.id, valid)));
  }
}
