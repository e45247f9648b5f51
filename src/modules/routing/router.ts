import type { AppDeps } from '../../shared/deps.js';
import type { OpenedConversation, RoutingHooks } from '../../shared/routing-hooks.js';
import { conversationReassignedEvent } from '../../events/live-events.js';
import { ROUTING_BATCH, RoutingRepository, teamsWithWorkAnywhere } from './routing.repository.js';

interface Run {
  again: boolean;
  /** Run the guards on the team's unchecked conversations before the next pass (see checkUnchecked). */
  check: boolean;
  done: Promise<void>;
}

/**
 * Automatic assignment for one server instance (AppDeps.routing). Correctness lives in the
 * database (RoutingRepository: row locks); this class only decides when to run a pass:
 * - after an inbound text opened a conversation (conversationOpened, not awaited by the webhook);
 * - when capacity frees or an agent comes ONLINE (routeWaiting);
 * - at start and every ROUTING_SWEEP_INTERVAL_MS (sweep): whatever a crash, a lost trigger or an
 *   ended hold left waiting.
 * Every pass first runs the beforeRouting guards on the team's conversations that never had them
 * (route_after null: a process died between the inbound commit and the guards, or a transfer
 * queued them) and assigns only conversations whose guards let them through; so no path, the
 * sweep included, routes a conversation a guard would hold (a closed number's).
 * Requests for a team whose pass is already running here are folded into one more pass after it
 * (fewer transactions queuing on the team lock under a burst; not needed for correctness).
 */
export class Router implements RoutingHooks {
  private readonly runs = new Map<string, Run>();
  private readonly guards: Array<(opened: OpenedConversation) => Promise<Date | null | undefined>> = [];
  private readonly queuedListeners: Array<(queued: OpenedConversation) => void | Promise<void>> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: AppDeps) {}

  beforeRouting(guard: (opened: OpenedConversation) => Promise<Date | null | undefined>): void {
    this.guards.push(guard);
  }

  onQueued(listener: (queued: OpenedConversation) => void | Promise<void>): void {
    this.queuedListeners.push(listener);
  }

  conversationOpened(tenantId: string, conversationId: string, teamId: string): Promise<void> {
    return this.track(this.opened({ tenantId, conversationId, teamId }));
  }

  async routeWaiting(tenantId: string, teamId?: string | null): Promise<void> {
    try {
      const teams = await new RoutingRepository(this.deps.db, tenantId).teamsWithWork(teamId);
      await Promise.all(teams.map((id) => this.routeTeam(tenantId, id)));
    } catch (err) {
      this.deps.logger.error({ err, tenantId, teamId }, 'routing waiting conversations failed');
    }
  }

  /** Sweeps now, then every ROUTING_SWEEP_INTERVAL_MS. */
  start(): void {
    const interval = this.deps.config.routingSweepIntervalMs;
    const tick = () => {
      if (this.stopped) return;
      this.track(this.sweep()).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, interval);
      });
    };
    tick();
  }

  /** Resolves once no pass, guard or listener is running here (tests that count statements). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops sweeping and waits for the passes in flight (before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async sweep(): Promise<void> {
    try {
      const work = await teamsWithWorkAnywhere(this.deps.db);
      for (const { tenantId, teamId } of work) await this.routeTeam(tenantId, teamId);
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err }, 'routing sweep failed');
    }
  }

  private async opened(opened: OpenedConversation): Promise<void> {
    const { tenantId, conversationId, teamId } = opened;
    try {
      const repo = new RoutingRepository(this.deps.db, tenantId);
      // The verdict is stored before any pass may assign it: a pass only takes conversations
      // whose guards ran (route_after set), so a crash right after the inbound commit leaves it
      // unchecked, and the next pass (sweep, start, another trigger) runs the guards first.
      const holdUntil = await this.verdict(opened);
      await repo.recordVerdicts([{ conversationId, holdUntil }]);
      if (holdUntil) return;
      // Its own verdict is stored: this pass need not look for unchecked ones (the sweep and
      // routeWaiting do), one statement less per opening.
      await this.routeTeam(tenantId, teamId, false);
      if (this.queuedListeners.length > 0 && (await repo.stillQueued(conversationId))) {
        for (const listener of this.queuedListeners) await listener(opened);
      }
    } catch (err) {
      this.deps.logger.error({ err, tenantId, conversationId, teamId }, 'routing an opened conversation failed');
    }
  }

  /** The beforeRouting guards' answer for one conversation: hold until a date, or null (route now). Throws if a guard does. */
  private async verdict(opened: OpenedConversation): Promise<Date | null> {
    for (const guard of this.guards) {
      const until = await guard(opened);
      // The business clock (deps.clock): guards judge time on it (operating hours, tests' clock).
      if (until && until.getTime() > this.deps.clock.now().getTime()) return until;
    }
    return null;
  }

  /**
   * Runs the guards on the team's queued conversations that never had them (see opened()) and
   * stores the verdicts; the pass that follows assigns only those let through. A guard that
   * fails leaves its conversation unchecked (not routed) for the next pass.
   */
  private async checkUnchecked(repo: RoutingRepository, tenantId: string, teamId: string): Promise<void> {
    const ids = await repo.unchecked(teamId);
    if (ids.length === 0) return;
    const verdicts: Array<{ conversationId: string; holdUntil: Date | null }> = [];
    for (const conversationId of ids) {
      try {
        verdicts.push({ conversationId, holdUntil: await this.verdict({ tenantId, conversationId, teamId }) });
      } catch (err) {
        this.deps.logger.error({ err, tenantId, conversationId, teamId }, 'routing guard failed; the conversation waits for the next pass');
      }
    }
    await repo.recordVerdicts(verdicts);
    const held = verdicts.filter((v) => v.holdUntil).length;
    if (held > 0) this.deps.logger.info({ tenantId, teamId, held }, 'unchecked queued conversations held by a routing guard');
  }

  /**
   * One pass over the team's queue, or one more after the pass running here. `check`: first run
   * the guards on conversations that never had them (the sweep, routeWaiting). Never throws.
   */
  private routeTeam(tenantId: string, teamId: string, check = true): Promise<void> {
    const key = `${tenantId}:${teamId}`;
    const running = this.runs.get(key);
    if (running) {
      running.again = true;
      running.check ||= check;
      return running.done;
    }
    const run: Run = { again: true, check, done: Promise.resolve() };
    run.done = (async () => {
      try {
        while (run.again && !this.stopped) {
          run.again = false;
          const repo = new RoutingRepository(this.deps.db, tenantId);
          if (run.check) {
            run.check = false;
            await this.checkUnchecked(repo, tenantId, teamId);
          }
          const assignments = await repo.routeTeam(teamId);
          for (const a of assignments) {
            this.deps.events.publish(
              conversationReassignedEvent({ id: a.conversationId, tenantId }, { teamId, assigneeId: null }),
            );
          }
          if (assignments.length > 0) {
            this.deps.logger.debug({ tenantId, teamId, assigned: assignments.length }, 'conversations routed');
          }
          // A full batch may have left more behind.
          if (assignments.length >= ROUTING_BATCH) run.again = true;
        }
      } catch (err) {
        if (!this.stopped) this.deps.logger.error({ err, tenantId, teamId }, 'routing pass failed; the sweep retries');
      } finally {
        this.runs.delete(key);
      }
    })();
    this.runs.set(key, run);
    return this.track(run.done);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    promise.finally(() => this.pending.delete(promise)).catch(() => {});
    return promise;
  }
}
