import { asc } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { conversationLabels } from './conversations.schema.js';
import { eq } from 'drizzle-orm';

export class ConversationLabelsRepository extends TenantRepository {
  /** Labels of several conversations in one query, each list in the order it was set. */
  async byConversation(conversationIds: readonly string[]): Promise<Map<string, string[]>> {
    const ids = conversationIds.filter(isUuid);
    const byConversation = new Map<string, string[]>();
    if (ids.length === 0) return byConversation;
    const rows = await this.db
      .select({ conversationId: conversationLabels.conversationId, label: conversationLabels.label })
      .from(conversationLabels)
      .where(this.scoped(conversationLabels, anyUuid(conversationLabels.conversationId, ids)))
      .orderBy(asc(conversationLabels.conversationId), asc(conversationLabels.position));
    for (const r of rows) {
      let list = byConversation.get(r.conversationId);
      if (!list) byConversation.set(r.conversationId, (list = []));
      list.push(r.label);
    }
    return byConversation;
  }

  /** Replaces the conversation's labels (call inside a transaction). */
  async replace(conversationId: string, labels: ReadonlyArray<{ label: string; key: string }>): Promise<void> {
    await this.db.delete(conversationLabels).where(this.scoped(conversationLabels, eq(conversationLabels.conversationId, conversationId)));
    if (labels.length === 0) return;
    await this.db
      .insert(conversationLabels)
      .values(labels.map((l, position) => ({ tenantId: this.tenantId, conversationId, label: l.label, key: l.key, position })));
  }
}
