import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { isApiKey } from '../../shared/principal.js';
import { Role } from '../users/role.js';
import { UsersRepository } from '../users/users.repository.js';
import type { Report } from './report.type.js';
import { ReportsRepository } from './reports.repository.js';

/** Longest period one report covers. */
export const MAX_REPORT_DAYS = 366;

export class ReportsService {
  constructor(private readonly scope: TenantScope) {}

  /**
   * Tenant totals and per-agent rows; an AGENT sees the totals and their own row only.
   * Team filter and CSAT come with the teams and CSAT columns (see the README).
   */
  async report(from: Date, to: Date, teamId: string | null): Promise<Report> {
    if (!(from instanceof Date) || Number.isNaN(from.getTime()) || !(to instanceof Date) || Number.isNaN(to.getTime())) {
      throw badInput('from and to must be valid times', 'from');
    }
    if (to <= from) throw badInput('to must be after from', 'to');
    if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) throw badInput(`A report covers at most ${MAX_REPORT_DAYS} days`, 'to');
    if (teamId !== null) throw notFound('Team');

    const { deps, tenantId, user } = this.scope;
    const repo = new ReportsRepository(deps.db, tenantId);
    const [totals, agents] = await Promise.all([repo.totals(from, to), repo.byAgent(from, to)]);
    const visible = user.role === Role.ADMIN ? agents : agents.filter((a) => !isApiKey(user) && a.agentId === user.userId);
    const users = new Map((await new UsersRepository(deps.db, tenantId).findByIds(visible.map((a) => a.agentId))).map((u) => [u.id, u]));
    return {
      from,
      to,
      ...totals,
      csatAverage: null,
      byAgent: visible.flatMap((a) => {
        const agent = users.get(a.agentId);
        return agent ? [{ agent, conversationsResolved: a.conversationsResolved, medianFirstResponseSeconds: a.medianFirstResponseSeconds, csatAverage: null }] : [];
      }),
    };
  }
}
