import type { Db } from '../../db/client.js';
import type { TenantScope } from '../../shared/deps.js';
import { actorOf } from '../../shared/principal.js';
import { auditEvents } from './audit.schema.js';

export interface AuditEntry {
  /** `<target type>.<verb>`, e.g. team.create, user.deactivate, contact.erase. */
  action: string;
  /** e.g. team, user, contact, api_key, webhook_endpoint, tenant. */
  targetType: string;
  targetId?: string | null;
}

const ACTION = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$/;

/**
 * The one way to write the audit trail. Call it with the transaction that makes the change, so
 * the change and its event commit or roll back together:
 *
 *   await db.transaction(async (tx) => {
 *     const team = await new TeamsRepository(tx, scope.tenantId).create(...);
 *     await audit(scope).record(tx, { action: 'team.create', targetType: 'team', targetId: team.id });
 *   });
 *
 * The actor (user or API key), tenant and client address come from the request's scope.
 */
export function audit(scope: TenantScope) {
  return {
    async record(tx: Db, entry: AuditEntry): Promise<void> {
      await insertAuditEvent(tx, scope.tenantId, { ...actorOf(scope.user), clientAddress: scope.clientIp || null }, entry);
    },
  };
}

/** An event with no person or key behind it (automations, Twilio, the retention job). */
export async function recordSystemAudit(tx: Db, tenantId: string, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(tx, tenantId, { actorUserId: null, actorApiKeyId: null, clientAddress: null }, entry);
}

async function insertAuditEvent(
  tx: Db,
  tenantId: string,
  actor: { actorUserId: string | null; actorApiKeyId: string | null; clientAddress: string | null },
  entry: AuditEntry,
): Promise<void> {
  if (!ACTION.test(entry.action)) throw new Error(`audit action "${entry.action}" is not <type>.<verb>`);
  await tx.insert(auditEvents).values({
    tenantId,
    ...actor,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
  });
}
