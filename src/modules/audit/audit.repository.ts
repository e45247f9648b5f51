import { desc, eq, like, lt, or } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { auditEvents, type AuditEventRow } from './audit.schema.js';

export interface AuditFilter {
  /** A user's or an API key's id. */
  actorId?: string | null;
  /** Exact action, or a prefix ending in `.*` (e.g. `contact.*`). */
  action?: string | null;
}

export class AuditRepository extends TenantRepository {
  /** Newest first, keyset on id; every filter is served by a (tenant_id, …, id) index. */
  list(limit: number, beforeId: number | null, filter: AuditFilter): Promise<AuditEventRow[]> {
    const action = filter.action ?? null;
    return this.db
      .select()
      .from(auditEvents)
      .where(
        this.scoped(
          auditEvents,
          beforeId !== null ? lt(auditEvents.id, beforeId) : undefined,
          filter.actorId ? or(eq(auditEvents.actorUserId, filter.actorId), eq(auditEvents.actorApiKeyId, filter.actorId)) : undefined,
          action === null ? undefined : action.endsWith('.*') ? like(auditEvents.action, `${action.slice(0, -1)}%`) : eq(auditEvents.action, action),
        ),
      )
      .orderBy(desc(auditEvents.id))
      .limit(limit);
  }
}
