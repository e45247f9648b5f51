import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { teamsChangedEvent } from '../../events/live-events.js';
import { audit } from '../audit/audit.js';
import { requireName } from '../users/user-input.js';
import { AssignmentStrategy } from './assignment-strategy.js';
import { TeamsRepository, type TeamValues } from './teams.repository.js';
import type { TeamRow } from './teams.schema.js';

export const MAX_TEAM_NAME = 100;
export const MAX_AGENT_CAPACITY = 10_000;
export const MAX_TEAM_MEMBERS = 1000;

export interface CreateTeamArgs {
  name: string;
  strategy?: AssignmentStrategy | null;
  agentCapacity?: number | null;
  memberIds?: string[] | null;
}

/** undefined: unchanged; null clears agentCapacity (no limit); null name/strategy/memberIds is refused. */
export interface UpdateTeamArgs {
  name?: string | null;
  strategy?: AssignmentStrategy | null;
  agentCapacity?: number | null;
  memberIds?: string[] | null;
}

export class TeamsService {
  private readonly teams: TeamsRepository;

  constructor(private readonly scope: TenantScope) {
    this.teams = new TeamsRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<TeamRow[]> {
    return this.teams.list();
  }

  async create(input: CreateTeamArgs): Promise<TeamRow> {
    const values: TeamValues = {
      name: requireName(input.name, 'name', MAX_TEAM_NAME),
      strategy: input.strategy ?? AssignmentStrategy.ROUND_ROBIN,
      agentCapacity: capacity(input.agentCapacity),
    };
    const memberIds = await this.members(input.memberIds ?? []);
    const team = await this.write(() =>
      this.scope.deps.db.transaction(async (tx) => {
        const repo = new TeamsRepository(tx, this.scope.tenantId);
        const row = await repo.insert(values);
        await repo.replaceMembers(row.id, memberIds);
        await audit(this.scope).record(tx, { action: 'team.create', targetType: 'team', targetId: row.id });
        return row;
      }),
    );
    this.changed(team.id);
    this.scope.deps.logger.info({ tenantId: team.tenantId, teamId: team.id, userId: this.scope.user.userId }, 'team created');
    return team;
  }

  async update(id: string, input: UpdateTeamArgs): Promise<TeamRow> {
    const values: Partial<TeamValues> = {};
    if (input.name !== undefined) values.name = requireName(input.name ?? '', 'name', MAX_TEAM_NAME);
    if (input.strategy !== undefined) {
      if (input.strategy === null) throw badInput('strategy cannot be cleared', 'strategy');
      values.strategy = input.strategy;
    }
    if (input.agentCapacity !== undefined) values.agentCapacity = capacity(input.agentCapacity);
    if (input.memberIds === null) throw badInput('memberIds cannot be null; give [] to remove every member', 'memberIds');
    const memberIds = input.memberIds === undefined ? null : await this.members(input.memberIds);

    const team = await this.write(() =>
      this.scope.deps.db.transaction(async (tx) => {
        const repo = new TeamsRepository(tx, this.scope.tenantId);
        const row = await repo.update(id, values);
        if (!row) throw notFound('Team');
        if (Object.keys(values).length > 0) await audit(this.scope).record(tx, { action: 'team.update', targetType: 'team', targetId: row.id });
        if (memberIds) {
          await repo.replaceMembers(row.id, memberIds);
          await audit(this.scope).record(tx, { action: 'team.set_members', targetType: 'team', targetId: row.id });
        }
        return row;
      }),
    );
    this.changed(team.id);
    // New members, a larger capacity or an automatic strategy can take what waits.
    await this.scope.deps.routing.routeWaiting(this.scope.tenantId, team.id);
    return team;
  }

  /** Memberships changed: this instance forgets them at once, the others when the event arrives. */
  changed(teamId: string): void {
    this.scope.deps.memberships.invalidate(this.scope.tenantId);
    this.scope.deps.events.publish(teamsChangedEvent(this.scope.tenantId, teamId));
  }

  /** Users of this tenant, deduplicated; another tenant's id is as absent as a made-up one. */
  private async members(ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_TEAM_MEMBERS) throw badInput(`A team has at most ${MAX_TEAM_MEMBERS} members`, 'memberIds');
    const found = new Set(await this.teams.usersAmong(unique));
    if (found.size !== unique.length) throw notFound('User');
    return unique;
  }

  private async write<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isUniqueViolation(err, 'teams_tenant_name_uq')) throw conflict('A team with this name already exists');
      throw err;
    }
  }
}

function capacity(value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_AGENT_CAPACITY) {
    throw badInput(`agentCapacity must be between 1 and ${MAX_AGENT_CAPACITY}, or null for no limit`, 'agentCapacity');
  }
  return value;
}
