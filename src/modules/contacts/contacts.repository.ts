import { eq, inArray, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { contacts, type ContactRow } from './contacts.schema.js';
import { mergeContactLocation } from './contacts.sql.js';

export interface ContactGeo {
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  country?: string | null;
}

export class ContactsRepository extends TenantRepository {
  /** Finds or creates the tenant's contact for an E.164 number; geo fields fill in, never blank out. */
  async upsertByPhone(phoneNumber: string, geo: ContactGeo = {}): Promise<ContactRow> {
    const [row] = await this.db
      .insert(contacts)
      .values({
        tenantId: this.tenantId,
        phoneNumber,
        city: geo.city || null,
        state: geo.state || null,
        zip: geo.zip || null,
        country: geo.country || null,
      })
      .onConflictDoUpdate({
        target: [contacts.tenantId, contacts.phoneNumber],
        set: {
          ...mergeContactLocation(),
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  }

  async findById(id: string): Promise<ContactRow | undefined> {
    const [row] = await this.db.select().from(contacts).where(this.scoped(contacts, eq(contacts.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<ContactRow[]> {
    if (ids.length === 0) return [];
    return this.db.select().from(contacts).where(this.scoped(contacts, inArray(contacts.id, [...ids])));
  }

  /** Records an opt-out (STOP, or Twilio's 21610) or an opt-in (START). */
  async setOptedOut(id: string, optedOut: boolean): Promise<ContactRow | undefined> {
    const [row] = await this.db
      .update(contacts)
      .set({ optedOut, optedOutAt: optedOut ? sql`now()` : null, updatedAt: sql`now()` })
      .where(this.scoped(contacts, eq(contacts.id, id)))
      .returning();
    return row;
  }
}
