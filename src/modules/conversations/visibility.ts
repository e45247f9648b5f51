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
export type Viewer = Pick<AuthUser, 'userId' | 'role'>;

/** As a WHERE condition on `conversations` (undefined: no restriction). One statement, no extra round trip. */
export function visibleTo(tenantId: string, viewer: Viewer | undefined): SQL | undefined {
  if (!viewer || viewer.role === Role.ADMIN) return undefined;
  return sql`(${conversations.assigneeId} = ${viewer.userId}::uuid or ${conversations.teamId} is null or ${conversations.teamId} in (
    select ${teamMembers.teamId} from ${teamMembers}
    where ${teamMembers.tenantId} = ${tenantId}::uuid and ${teamMembers.userId} = ${viewer.userId}::uuid))`;
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
