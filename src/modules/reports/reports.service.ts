import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { isApiKey } from '../../shared/principal.js';
import { TeamsRepository } from '../teams/teams.repository.js';
import { Role } from '../users/role.js';
import { UsersRepository } from '../users/users.repository.js';
import type { Report } from './report.type.js';
import { ReportsRepository } from './reports.repository.js';

/** Longest period one report covers. */
export const MAX_REPORT_DAYS = 366;
/** Most agent rows one report lists (by name). */
export const MAX_REPORT_AGENTS = 1000;

export class ReportsService {
  constructor(private readonly scope: TenantScope) {}

  /**
   * Tenant (or one team's) totals and per-agent rows; an AGENT sees the totals and their own row
   * only. Another tenant's or an unknown team is NOT_FOUND.
   */
  async report(from: Date, to: Date, teamId: string | null): Promise<Report> {
    if (!(from instanceof Date) || Number.isNaN(from.getTime()) || !(to instanceof Date) || Number.isNaN(to.getTime())) {
      throw badInput('from and to must be valid times', 'from');
    }
    if (to <= from) throw badInput('to must be after from', 'to');
    if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) throw badInput(`A report covers at most ${MAX_REPORT_DAYS} days`, 'to');

    const { deps, tenantId, user } = this.scope;
    if (teamId !== null && !(isUuid(teamId) && (await new TeamsRepository(deps.db, tenantId).findById(teamId)))) throw notFound('Team');
    const repo = new ReportsRepository(deps.db, tenantId);
    const period = { from, to, teamId };
    const { totals, byAgent: agents } = await repo.report(period);
    const visible = user.role === Role.ADMIN ? agents : agents.filter((a) => !isApiKey(user) && a.agentId === user.userId);
    const users = new Map((await new UsersRepository(deps.db, tenantId).findByIds(visible.map((a) => a.agentId))).map((u) => [u.id, u]));
    return {
      from,
      to,
      ...totals,
      byAgent: visible
        .flatMap((a) => {
          const agent = users.get(a.agentId);
          return agent ? [{ agent, conversationsResolved: a.conversationsResolved, medianFirstResponseSeconds: a.medianFirstResponseSeconds, csatAverage: a.csatAverage }] : [];
        })
        .sort((a, b) => (a.agent.name < b.agent.name ? -1 : a.agent.name > b.agent.name ? 1 : a.agent.id < b.agent.id ? -1 : a.agent.id > b.agent.id ? 1 : 0))
        .slice(0, MAX_REPORT_AGENTS),
    };
  }
}
