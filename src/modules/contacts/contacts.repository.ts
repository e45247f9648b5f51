import { desc, eq, or, sql } from 'drizzle-orm';
import { foldedLike, type SearchTerm } from '../../shared/search.js';
import { cursorText, olderThan, type KeysetCursor } from '../../graphql/pagination.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { contacts, type ContactRow } from './contacts.schema.js';
import { mergeContactLocation } from './contacts.sql.js';

export interface ContactGeo {
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  country?: string | null;
}

export interface ContactListRow {
  row: ContactRow;
  id: string;
  /** lastActivityAt as exact cursor text. */
  cursorTs: string;
}

export interface ContactChanges {
  /** Undefined: unchanged; null: cleared. */
  name?: string | null;
  blocked?: boolean;
}

export class ContactsRepository extends TenantRepository {
  /**
   * Most recently active first; `limit + 1` rows. `search` matches the name (case and accents
   * folded) or, for a number fragment, the digits of the number; both through trigram indexes.
   */
  async list(limit: number, after: KeysetCursor | null, search: SearchTerm | null): Promise<ContactListRow[]> {
    const rows = await this.db
      .select({ row: contacts, cursorTs: cursorText(contacts.lastActivityAt) })
      .from(contacts)
      .where(
        this.scoped(
          contacts,
          search
            ? or(foldedLike(contacts.name, search.pattern), search.digitsPattern ? sql`${contacts.phoneNumber} like ${search.digitsPattern}` : undefined)
            : undefined,
          after ? olderThan(contacts.lastActivityAt, contacts.id, after) : undefined,
        ),
      )
      // Matches contacts_tenant_activity_idx (tenant_id, last_activity_at, id), scanned backwards.
      .orderBy(desc(contacts.lastActivityAt), desc(contacts.id))
      .limit(limit + 1);
    return rows.map((r) => ({ row: r.row, id: r.row.id, cursorTs: r.cursorTs }));
  }

  /** Name and block changes; undefined when there is no such contact in the tenant. */
  async update(id: string, changes: ContactChanges): Promise<ContactRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(contacts)
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.blocked !== undefined ? { blocked: changes.blocked } : {}),
        updatedAt: sql`now()`,
      })
      .where(this.scoped(contacts, eq(contacts.id, id)))
      .returning();
    return row;
  }

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
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(contacts).where(this.scoped(contacts, eq(contacts.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<ContactRow[]> {
    return this.rowsByIds(contacts, ids);
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

