import { customType, index, integer, pgEnum, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

/** bytea as a Buffer on both drivers (postgres.js gives a Buffer, PGlite a Uint8Array). */
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
  toDriver: (value) => value,
});

export const mediaStorageEnum = pgEnum('media_storage', ['POSTGRES', 'S3']);
export const mediaOriginEnum = pgEnum('media_origin', ['UPLOAD', 'INBOUND']);

/**
 * A file we keep: an agent's upload (sent as MMS through signed links) or the copy of a
 * customer's media (so it outlives Twilio's). Bytes in `bytes` (POSTGRES) or in the bucket under
 * `<tenant>/<id>` (S3).
 */
export const mediaFiles = pgTable(
  'media_files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    origin: mediaOriginEnum('origin').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    storage: mediaStorageEnum('storage').notNull(),
    bytes: bytea('bytes'),
    /** The uploader (UPLOAD). */
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('media_files_tenant_idx').on(t.tenantId, t.createdAt), unique('media_files_tenant_id_uq').on(t.tenantId, t.id)],
);

export type MediaFileRow = typeof mediaFiles.$inferSelect;
