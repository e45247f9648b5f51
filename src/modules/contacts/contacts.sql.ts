import { sql, type SQL } from 'drizzle-orm';
import { excluded } from '../../db/sql.js';
import { contacts } from './contacts.schema.js';

/**
 * The contact-location merge rule, in ON CONFLICT (tenant_id, phone_number) DO UPDATE: geo fields
 * fill in and never blank out. Written once; used by ContactsRepository.upsertByPhone, the ingest
 * statement (ingestBatch) and the benchmark's ceiling.
 */
export function mergeContactLocation(): { city: SQL; state: SQL; zip: SQL; country: SQL } {
  return {
    city: sql`coalesce(${excluded(contacts.city)}, ${contacts.city})`,
    state: sql`coalesce(${excluded(contacts.state)}, ${contacts.state})`,
    zip: sql`coalesce(${excluded(contacts.zip)}, ${contacts.zip})`,
    country: sql`coalesce(${excluded(contacts.country)}, ${contacts.country})`,
  };
}

/** The contact's activity (the contacts list order) moves to `at`, never back. */
export function recordContactActivity(at: SQL): { lastActivityAt: SQL } {
  return { lastActivityAt: sql`greatest(${contacts.lastActivityAt}, ${at})` };
}
