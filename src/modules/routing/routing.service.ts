import { requireUser } from '../../shared/principal.js';
import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { audit } from '../audit/audit.js';
import { isUuid } from '../../shared/ids.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import type { ConversationRow } from '../conversations/conversations.schema.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { conversationReassignedEvent, conversationRemovedEvent, userUpdatedEvent } from '../../events/live-events.js';
import { TeamsRepository } from '../teams/teams.repository.js';
import { TeamsService } from '../teams/teams.service.js';
import { UsersRepository } from '../users/users.repository.js';
import type { UserRow } from '../users/users.schema.js';
import type { Availability } from './availability.js';
import { PresenceRepository } from './presence.repository.js';
import { RoutingRepository } from './routing.repository.js';

/** Availability, transfers and team deletion: the tenant-bound operations of routing. */
export class RoutingService {
  constructor(private readonly scope: TenantScope) {}

  private get deps() {
    return this.scope.deps;
  }

  /** For oneself. Coming ONLINE takes waiting conversations of one's teams at once. */
  async setAvailability(availability: Availability): Promise<UserRow> {
    const { tenantId, user } = this.scope;
    requireUser(user, 'set an availability');
    const me = await new UsersRepository(this.deps.db, tenantId).findById(user.userId);
    if (!me) throw notFound('User');
    await new PresenceRepository(this.deps.db, tenantId).setAvailability(me.id, availability, this.deps.config.presenceOfflineAfterSeconds);
    this.deps.events.publish(userUpdatedEvent(me));
    await this.deps.routing.routeWaiting(tenantId);
    return me;
  }

  /**
   * To another team (routed by its strategy) and/or to an agent (a member of that team when one
   * is given; capacity does not apply). The caller must see the conversation; the answer is the
   * conversation even when they lose sight of it.
   */
  async transfer(conversationId: string, teamId: string | null, assigneeId: string | null): Promise<ConversationRow> {
    const { tenantId } = this.scope;
    if (teamId === null && assigneeId === null) throw badInput('Give teamId, assigneeId or both', 'teamId');
    if (teamId !== null && !(await new TeamsRepository(this.deps.db, tenantId).findById(teamId))) throw notFound('Team');
    if (assigneeId !== null) {
      const assignee = isUuid(assigneeId) ? await new UsersRepository(this.deps.db, tenantId).findById(assigneeId) : undefined;
      if (!assignee) throw notFound('User');
      if (teamId !== null && !(await new TeamsRepository(this.deps.db, tenantId).isMember(teamId, assigneeId))) {
        throw badInput('The assignee is not a member of that team', 'assigneeId');
      }
    }
    const change = teamId !== null ? { teamId, assigneeId } : { assigneeId };
    const result = await this.deps.db.transaction((tx) =>
      new ConversationsRepository(tx, tenantId).reassign(conversationId, change, this.scope.user),
    );
    await new ConversationsService(this.scope).reassigned(result);
    // The answer shows whom the new team's strategy picked.
    return (await new ConversationsRepository(this.deps.db, tenantId).findById(result!.row.id)) ?? result!.row;
  }

  /**
   * Its conversations move to `moveTo` (live ones unassigned and routed there) or, without it,
   * become team-less (visible to every agent, assignees kept); numbers pointing at it lose their team.
   */
  async deleteTeam(id: string, moveTo: string | null): Promise<boolean> {
    const { tenantId } = this.scope;
    const teams = new TeamsRepository(this.deps.db, tenantId);
    const team = await teams.findById(id);
    if (!team) throw notFound('Team');
    if (moveTo !== null) {
      if (moveTo === team.id) throw badInput('moveConversationsTo must be another team', 'moveConversationsTo');
      if (!(await teams.findById(moveTo))) throw notFound('Team');
    }
    const { moved, formerMembers, newMembers } = await this.deps.db.transaction(async (tx) => {
      const txTeams = new TeamsRepository(tx, tenantId);
      const live = await new RoutingRepository(tx, tenantId).moveTeamAway(team.id, moveTo);
      const members = { formerMembers: await txTeams.memberIds(team.id), newMembers: moveTo === null ? [] : await txTeams.memberIds(moveTo) };
      await txTeams.delete(team.id);
      await audit(this.scope).record(tx, { action: 'team.delete', targetType: 'team', targetId: team.id });
      return { moved: live, ...members };
    });
    new TeamsService(this.scope).changed(team.id);
    for (const c of moved) {
      this.deps.events.publish(conversationReassignedEvent({ id: c.id, tenantId }, { teamId: team.id, assigneeId: c.assigneeId }));
      if (moveTo === null) continue; // team-less now: everyone sees it
      // The old team's members who are not in the new team lose sight of it; their memberships
      // of the deleted team are gone, so they are told by name. (Its previous assignee learns it
      // from the event above.)
      const losers = new Set(formerMembers);
      for (const userId of [...newMembers, c.assigneeId]) if (userId) losers.delete(userId);
      for (const userId of losers) this.deps.events.publish(conversationRemovedEvent({ id: c.id, tenantId }, userId));
    }
    this.deps.logger.info({ tenantId, teamId: team.id, movedTo: moveTo, conversations: moved.length }, 'team deleted');
    if (moveTo !== null) await this.deps.routing.routeWaiting(tenantId);
    return true;
  }
}
