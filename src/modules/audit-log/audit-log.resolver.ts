import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { badInput } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { decodeSeqCursor, toSeqPage } from '../../shared/seq-page.js';
import { ApiKey } from '../api-keys/api-key.type.js';
import { pageSize } from '../../graphql/pagination.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import { AuditEvent, AuditEventConnection } from './audit-event.type.js';

const MAX_ACTION_FILTER = 100;

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditEventConnection, { description: 'ADMIN; newest first. `action` is exact, or a prefix ending in .* (e.g. contact.*).' })
  async auditLog(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('actorId', () => ID, { nullable: true }) actorId: string | null,
    @Arg('action', () => String, { nullable: true }) action: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AuditEventConnection> {
    const limit = pageSize(first);
    const before = decodeSeqCursor(after);
    // Omitted arguments arrive as undefined.
    actorId ??= null;
    action ??= null;
    if (action !== null && action.length > MAX_ACTION_FILTER) throw badInput(`action must be at most ${MAX_ACTION_FILTER} characters`, 'action');
    // An id that cannot exist matches nothing (and must not reach a uuid comparison).
    if (actorId !== null && !isUuid(actorId)) return toSeqPage([], limit, before !== null, (r: AuditEvent) => Number(r.id));
    const rows = await ctx.tenant().auditLog.list(limit + 1, before, { actorId, action });
    const events = rows.map((r) => ({ ...r, id: String(r.id) }));
    return toSeqPage(events, limit, before !== null, (r) => Number(r.id));
  }

  @FieldResolver(() => User, { nullable: true, description: 'Null for an API key (see apiKey) and for the system (automations, campaigns, Twilio).' })
  actor(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<User | null> {
    if (!event.actorUserId) return Promise.resolve(null);
    return ctx.byId('auditActor', (ids) => ctx.tenant().users.findByIds(ids)).load(event.actorUserId);
  }

  @FieldResolver(() => ApiKey, { nullable: true })
  apiKey(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<ApiKey | null> {
    if (!event.actorApiKeyId) return Promise.resolve(null);
    return ctx.byId('auditApiKey', (ids) => ctx.tenant().apiKeys.findByIds(ids)).load(event.actorApiKeyId);
  }
}
