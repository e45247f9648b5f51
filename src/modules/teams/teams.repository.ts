import { and, asc, eq, notInArray, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { users, type UserRow } from '../users/users.schema.js';
import type { AssignmentStrategy } from './assignment-strategy.js';
import { teamMembers, teams, type TeamRow } from './teams.schema.js';

export interface TeamValues {
  name: string;
  strategy: AssignmentStrategy;
  agentCapacity: number | null;
}

export class TeamsRepository extends TenantRepository {
  async list(): Promise<TeamRow[]> {
    return this.db.select().from(teams).where(this.scoped(teams)).orderBy(asc(sql`lower(${teams.name})`), asc(teams.id));
  }

  async findById(id: string): Promise<TeamRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(teams).where(this.scoped(teams, eq(teams.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<TeamRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(teams).where(this.scoped(teams, anyUuid(teams.id, valid)));
  }

  /** Throws a unique violation (teams_tenant_name_uq) when the name is taken. */
  async insert(values: TeamValues): Promise<TeamRow> {
    const [row] = await this.db
      .insert(teams)
      .values({ ...values, tenantId: this.tenantId })
      .returning();
    return row!;
  }

  async update(id: string, values: Partial<TeamValues>): Promise<TeamRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(teams)
      .set({ ...values, updatedAt: sql`now()` })
      .where(this.scoped(teams, eq(teams.id, id)))
      .returning();
    return row;
  }

  /** Replaces the members; members who stay keep their place in the round-robin turn. */
  async replaceMembers(teamId: string, userIds: readonly string[]): Promise<void> {
    await this.db
      .delete(teamMembers)
      .where(
        and(
          eq(teamMembers.tenantId, this.tenantId),
          eq(teamMembers.teamId, teamId),
          userIds.length > 0 ? notInArray(teamMembers.userId, [...userIds]) : undefined,
        ),
      );
    if (userIds.length === 0) return;
    await this.db
      .insert(teamMembers)
      .values(userIds.map((userId) => ({ tenantId: this.tenantId, teamId, userId })))
      .onConflictDoNothing();
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(teams).where(this.scoped(teams, eq(teams.id, id))).returning({ id: teams.id });
    return rows.length > 0;
  }

  /** The users of this tenant among `ids` (others' ids and made-up ones are simply absent). */
  async usersAmong(ids: readonly string[]): Promise<string[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.tenantId, this.tenantId), anyUuid(users.id, valid)));
    return rows.map((r) => r.id);
  }

  /** Whether the user is a member of the team (transfers to a team and an agent of it). */
  async isMember(teamId: string, userId: string): Promise<boolean> {
    if (!isUuid(teamId) || !isUuid(userId)) return false;
    const [row] = await this.db
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(and(eq(teamMembers.tenantId, this.tenantId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
      .limit(1);
    return row !== undefined;
  }

  /** The ids of one team's members. */
  async memberIds(teamId: string): Promise<string[]> {
    if (!isUuid(teamId)) return [];
    const rows = await this.db
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(and(eq(teamMembers.tenantId, this.tenantId), eq(teamMembers.teamId, teamId)));
    return rows.map((r) => r.userId);
  }

  /** Members of several teams at once (Team.members), in the order they were added. */
  async membersOf(teamIds: readonly string[]): Promise<Array<{ teamId: string; user: UserRow }>> {
    const valid = teamIds.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db
      .select({ teamId: teamMembers.teamId, user: users })
      .from(teamMembers)
      .innerJoin(users, and(eq(users.id, teamMembers.userId), eq(users.tenantId, teamMembers.tenantId)))
      .where(and(eq(teamMembers.tenantId, this.tenantId), anyUuid(teamMembers.teamId, valid)))
      .orderBy(asc(teamMembers.createdAt), asc(users.id));
  }

  /** Teams of several users at once (User.teams). */
  async teamsOf(userIds: readonly string[]): Promise<Array<{ userId: string; team: TeamRow }>> {
    const valid = userIds.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db
      .select({ userId: teamMembers.userId, team: teams })
      .from(teamMembers)
      .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), eq(teams.tenantId, teamMembers.tenantId)))
      .where(and(eq(teamMembers.tenantId, this.tenantId), anyUuid(teamMembers.userId, valid)))
      .orderBy(asc(sql`lower(${teams.name})`), asc(teams.id));
  }

  /** Every membership of the tenant: user id → team ids (the per-instance visibility cache). */
  async memberships(): Promise<Map<string, Set<string>>> {
    const rows = await this.db
      .select({ userId: teamMembers.userId, teamId: teamMembers.teamId })
      .from(teamMembers)
      .where(eq(teamMembers.tenantId, this.tenantId));
    const byUser = new Map<string, Set<string>>();
    for (const r of rows) {
      let set = byUser.get(r.userId);
      if (!set) byUser.set(r.userId, (set = new Set()));
      set.add(r.teamId);
    }
    return byUser;
  }
}
