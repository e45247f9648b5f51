import { and, asc, eq, lte, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { cursorText, newerThan, type KeysetCursor } from '../../graphql/pagination.js';
import { notes, type NoteRow } from './notes.schema.js';

export interface NotePageRow {
  row: NoteRow;
  id: string;
  /** createdAt as exact cursor text. */
  cursorTs: string;
}

export class NotesRepository extends TenantRepository {
  async insert(values: { conversationId: string; authorId: string; body: string }): Promise<NoteRow> {
    const [row] = await this.db
      .insert(notes)
      .values({ ...values, tenantId: this.tenantId })
      .returning();
    return row!;
  }

  /**
   * Oldest-first pages of several conversations in one statement (a window per conversation),
   * `limit + 1` rows each, as MessagesRepository.pages does newest first.
   */
  async pages(conversationIds: readonly string[], limit: number, after: KeysetCursor | null): Promise<NotePageRow[]> {
    const ids = conversationIds.filter(isUuid);
    if (ids.length === 0) return [];
    const ranked = this.db
      .select({
        id: notes.id,
        rn: sql<number>`row_number() over (partition by ${notes.conversationId} order by ${notes.createdAt}, ${notes.id})`.as('rn'),
      })
      .from(notes)
      .where(this.scoped(notes, anyUuid(notes.conversationId, ids), after ? newerThan(notes.createdAt, notes.id, after) : undefined))
      .as('ranked');
    const rows = await this.db
      .select({ row: notes, cursorTs: cursorText(notes.createdAt) })
      .from(notes)
      .innerJoin(ranked, eq(ranked.id, notes.id))
      .where(and(this.scoped(notes), lte(ranked.rn, limit + 1)))
      .orderBy(asc(notes.conversationId), asc(notes.createdAt), asc(notes.id));
    return rows.map((r) => ({ row: r.row, id: r.row.id, cursorTs: r.cursorTs }));
  }
}
