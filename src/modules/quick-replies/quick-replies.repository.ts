import { asc, eq, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { foldedLike, type SearchTerm } from '../../shared/search.js';
import { quickReplies, type QuickReplyRow } from './quick-replies.schema.js';

export class QuickRepliesRepository extends TenantRepository {
  /** By title; `search` matches title or body (the expression of quick_replies_tenant_text_trgm_idx). */
  async list(search: SearchTerm | null): Promise<QuickReplyRow[]> {
    return this.db
      .select()
      .from(quickReplies)
      .where(this.scoped(quickReplies, search ? foldedLike(sql`${quickReplies.title} || ' ' || ${quickReplies.body}`, search.pattern) : undefined))
      .orderBy(asc(quickReplies.titleKey), asc(quickReplies.id));
  }

  async findById(id: string): Promise<QuickReplyRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(quickReplies).where(this.scoped(quickReplies, eq(quickReplies.id, id))).limit(1);
    return row;
  }

  /**
   * Inserts unless the tenant has `max` already (then undefined), in one statement. Throws a unique
   * violation (quick_replies_tenant_title_uq) for a title taken.
   */
  async create(values: { title: string; body: string }, max: number): Promise<QuickReplyRow | undefined> {
    const result = await this.db.execute(sql`
      insert into quick_replies (tenant_id, title, title_key, body)
      select ${this.tenantId}::uuid, ${values.title}, ${values.title.toLowerCase()}, ${values.body}
      where (select count(*) from quick_replies where tenant_id = ${this.tenantId}::uuid) < ${max}
      returning id`);
    const [row] = rowsOf<{ id: string }>(result);
    return row ? this.findById(row.id) : undefined;
  }

  /** Throws a unique violation (quick_replies_tenant_title_uq) for a title taken. */
  async update(id: string, changes: { title?: string; body?: string }): Promise<QuickReplyRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(quickReplies)
      .set({
        ...(changes.title !== undefined ? { title: changes.title, titleKey: changes.title.toLowerCase() } : {}),
        ...(changes.body !== undefined ? { body: changes.body } : {}),
        updatedAt: sql`now()`,
      })
      .where(this.scoped(quickReplies, eq(quickReplies.id, id)))
      .returning();
    return row;
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.delete(quickReplies).where(this.scoped(quickReplies, eq(quickReplies.id, id))).returning({ id: quickReplies.id });
    return rows.length > 0;
  }
}
