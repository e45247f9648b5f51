import { sql, type SQL } from 'drizzle-orm';
import type { AuthUser } from '../../shared/deps.js';
import { teamMembers } from '../teams/teams.schema.js';
import { Role } from '../users/role.js';
import { conversations } from './conversations.schema.js';

/**
 * The contract's visibility rule, in one place: an ADMIN sees every conversation of the tenant;
 * an AGENT those assigned to them, those of the teams they belong to, and team-less ones.
 * Anything else reads as absent (NOT_FOUND / not listed / no live event), like another tenant's.
 */
/** A user, or an API key (no userId: it sees what a member of no team sees, or all as ADMIN). */
export type Viewer = Pick<AuthUser, 'role'> & { userId?: string };

/** No viewer (the system) or an ADMIN: every conversation of the tenant, no condition. */
export function seesEveryConversation(viewer: Viewer | undefined): boolean {
  return !viewer || viewer.role === Role.ADMIN;
}

/**
 * Which of the two shapes of a statement built once serves this viewer: `all` (no condition) or
 * `agent` (agentVisibility with the viewer's user id as a parameter).
 */
export type VisibilityShape = 'all' | 'agent';

export function visibilityShape(viewer: Viewer | undefined): VisibilityShape {
  return seesEveryConversation(viewer) ? 'all' : 'agent';
}

/** As a WHERE condition on `conversations` (undefined: no restriction). One statement, no extra round trip. */
export function visibleTo(tenantId: string, viewer: Viewer | undefined): SQL | undefined {
  if (seesEveryConversation(viewer)) return undefined;
  return agentVisibility(tenantId, viewer!.userId ?? null);
}

/**
 * The rule for a viewer who is not ADMIN, with the tenant and user id as any SQL value (a
 * parameter, or a placeholder of a statement built once); null user: an API key.
 */
export function agentVisibility(tenantId: unknown, userId: unknown): SQL {
  return sql`(${conversations.assigneeId} = ${userId}::uuid or ${conversations.teamId} is null or ${conversations.teamId} in (
    select ${teamMembers.teamId} from ${teamMembers}
    where ${teamMembers.tenantId} = ${tenantId}::uuid and ${teamMembers.userId} = ${userId}::uuid))`;
}

/** The same rule on a loaded row, given the viewer's team ids (live events). */
export function canSee(
  viewer: Viewer,
  conversation: { teamId: string | null; assigneeId: string | null },
  viewerTeamIds: ReadonlySet<string>,
): boolean {
  if (viewer.role === Role.ADMIN) return true;
  if (conversation.assigneeId === viewer.userId) return true;
  return conversation.teamId === null || viewerTeamIds.has(conversation.teamId);
}
