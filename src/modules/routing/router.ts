import type { AppDeps } from '../../shared/deps.js';
import type { BatchRoutingGuard, OpenedConversation, RoutingGuard, RoutingHooks } from '../../shared/routing-hooks.js';
import { conversationUpdatedEvent } from '../../events/live-events.js';
import { ROUTING_BATCH, RoutingRepository, routeTeams, teamsWithWorkAnywhere, type Assignment, type TeamAssignments, type TeamWork } from './routing.repository.js';

/**
 * Openings are routed in batches: at most one pass per OPENINGS_WINDOW_MS, and an opening after a
 * quiet spell (no pass for a window) waits only FIRST_OPENING_WAIT_MS for companions. So a lone
 * text is assigned within a few tens of milliseconds, and under a burst passes take what arrived
 * in the last quarter second. A pass is one statement (route_pass) and one live-event batch
 * whatever its size; at 1,000 openings/s a 100 ms window made those fixed costs several percent of
 * the webhooks' own CPU, 250 ms makes them about 1%. The delay is routing's only (the webhook's
 * answer never waits for it), and a quarter second before an agent is assigned is not one a
 * person notices.
 */
const OPENINGS_WINDOW_MS = 250;
const FIRST_OPENING_WAIT_MS = 20;

/** The openings gathered for the next pass, and the one promise they all settle with. */
interface Batch {
  openings: OpenedConversation[];
  done: Promise<void>;
  settle: () => void;
}

/** A guard's answer for one conversation; 'failed': the guard threw (the conversation stays unchecked). */
type Verdict = Date | null | 'failed';

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
 * Openings are coalesced the same way (a burst of webhooks opens many): those that arrive within
 * OPENINGS_WINDOW_MS, or while a batch is being routed, are routed together: guards once per
 * tenant for the lot, one pass per team that records their verdicts and assigns them, one onQueued
 * check for those left waiting.
 */
export class Router implements RoutingHooks {
  private readonly runs = new Map<string, Run>();
  private readonly guards: Array<RoutingGuard | BatchRoutingGuard> = [];
  private batch: Batch | null = null;
  private flushing = false;
  /** When the last batch of openings started (Date.now()); 0: never. */
  private lastPassAt = 0;
  private readonly queuedListeners: Array<(queued: OpenedConversation) => void | Promise<void>> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: AppDeps) {}

  beforeRouting(guard: RoutingGuard | BatchRoutingGuard): void {
    this.guards.push(guard);
  }

  onQueued(listener: (queued: OpenedConversation) => void | Promise<void>): void {
    this.queuedListeners.push(listener);
  }

  conversationOpened(opened: OpenedConversation): Promise<void> {
    // One promise per batch, not per opening (thousands a second under a burst): each opening's
    // promise settles with its pass anyway.
    let batch = this.batch;
    if (!batch) {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      batch = this.batch = { openings: [], done, settle };
      this.track(done);
    }
    batch.openings.push(opened);
    if (!this.flushing) {
      this.flushing = true;
      const sinceLastPass = Date.now() - this.lastPassAt;
      const wait = sinceLastPass >= OPENINGS_WINDOW_MS ? FIRST_OPENING_WAIT_MS : OPENINGS_WINDOW_MS - sinceLastPass;
      setTimeout(() => void this.track(this.flushOpenings()), wait);
    }
    return batch.done;
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

  /** Routes the openings waiting, batch after batch, until none is left. Never throws. */
  private async flushOpenings(): Promise<void> {
    try {
      // The first batch waited already (conversationOpened's timer).
      let first = true;
      while (this.batch) {
        // At most one batch per window: under a burst, fewer and larger batches.
        const wait = this.lastPassAt + OPENINGS_WINDOW_MS - Date.now();
        if (!first && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        first = false;
        this.lastPassAt = Date.now();
        const batch = this.batch;
        this.batch = null;
        try {
          await this.routeOpenings(batch.openings);
        } finally {
          batch.settle();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * A batch of openings, whatever their tenants and teams: their guards, the holds stored, then
   * one pass over all their teams (routeTeams) that assigns those let through and records their
   * verdict in its transaction (a pass only takes conversations whose guards ran: a crash before
   * it commits leaves them unchecked, and the next pass, sweep or start, runs the guards first),
   * then onQueued for those nobody could take.
   */
  private async routeOpenings(batch: OpenedConversation[]): Promise<void> {
    try {
      const verdicts = await this.verdicts(batch);
      const held = new Map<string, Array<{ conversationId: string; holdUntil: Date }>>();
      const ready = new Map<string, TeamWork & { checked: string[] }>();
      batch.forEach((o, i) => {
        const v = verdicts[i];
        if (v === 'failed' || v === undefined) return;
        if (v) {
          const list = held.get(o.tenantId) ?? [];
          list.push({ conversationId: o.conversationId, holdUntil: v });
          held.set(o.tenantId, list);
          return;
        }
        const key = `${o.tenantId}:${o.teamId}`;
        const work = ready.get(key) ?? { tenantId: o.tenantId, teamId: o.teamId, checked: [] };
        work.checked.push(o.conversationId);
        ready.set(key, work);
      });
      for (const [tenantId, verdictsHeld] of held) await new RoutingRepository(this.deps.db, tenantId).recordVerdicts(verdictsHeld);
      if (this.stopped || ready.size === 0) return;
      let done: TeamAssignments[];
      try {
        done = await routeTeams(this.deps.db, [...ready.values()]);
      } catch (err) {
        this.deps.logger.error({ err, teams: ready.size, conversations: batch.length }, 'routing pass failed; the sweep retries');
        return;
      }
      const taken = new Set<string>();
      for (const { tenantId, teamId, assignments } of done) {
        this.published(tenantId, teamId, assignments);
        for (const a of assignments) taken.add(a.conversationId);
      }
      // A full batch may have left more behind (the team's queue, beyond these openings).
      await Promise.all(done.filter((d) => d.assignments.length >= ROUTING_BATCH).map((d) => this.routeTeam(d.tenantId, d.teamId, false)));
      if (this.queuedListeners.length === 0) return;
      const waitingByTenant = new Map<string, Map<string, string>>();
      for (const { tenantId, teamId, checked } of ready.values()) {
        for (const id of checked) {
          if (taken.has(id)) continue;
          const m = waitingByTenant.get(tenantId) ?? new Map<string, string>();
          m.set(id, teamId);
          waitingByTenant.set(tenantId, m);
        }
      }
      for (const [tenantId, teamOf] of waitingByTenant) {
        for (const conversationId of await new RoutingRepository(this.deps.db, tenantId).stillQueued([...teamOf.keys()])) {
          for (const listener of this.queuedListeners) await listener({ tenantId, conversationId, teamId: teamOf.get(conversationId)! });
        }
      }
    } catch (err) {
      this.deps.logger.error({ err, conversations: batch.length }, 'routing opened conversations failed');
    }
  }

  /**
   * The beforeRouting guards' answers for conversations (of any tenants): hold until a date, or null
   * (route now); 'failed' where a guard threw (logged; the conversation waits, unchecked, for the
   * next pass). A later guard is asked only about those the earlier ones let through.
   */
  private async verdicts(opened: readonly OpenedConversation[]): Promise<Verdict[]> {
    const verdicts: Verdict[] = opened.map(() => null);
    // The business clock (deps.clock): guards judge time on it (operating hours, tests' clock).
    const now = this.deps.clock.now().getTime();
    for (const guard of this.guards) {
      const asked = opened.map((_, i) => i).filter((i) => verdicts[i] === null);
      if (asked.length === 0) break;
      if (typeof guard === 'function') {
        await Promise.all(
          asked.map(async (i) => {
            try {
              const until = await guard(opened[i]!);
              if (until && until.getTime() > now) verdicts[i] = until;
            } catch (err) {
              verdicts[i] = 'failed';
              this.deps.logger.error({ err, ...opened[i] }, 'routing guard failed; the conversation waits for the next pass');
            }
          }),
        );
        continue;
      }
      try {
        const answers = await guard.many(asked.map((i) => opened[i]!));
        asked.forEach((i, k) => {
          const until = answers[k];
          if (until && until.getTime() > now) verdicts[i] = until;
        });
      } catch (err) {
        for (const i of asked) verdicts[i] = 'failed';
        this.deps.logger.error({ err, tenantId: opened[0]?.tenantId, conversations: asked.length }, 'routing guard failed; the conversations wait for the next pass');
      }
    }
    return verdicts;
  }

  private published(tenantId: string, teamId: string, assignments: readonly Assignment[]): void {
    if (assignments.length === 0) return;
    this.deps.events.publish(
      // A plain update, not a reassignment with its previous holder: the conversation stays in its
      // team and its new assignee is a member, so nobody who saw it loses sight of it (no
      // conversationRemoved to work out for every subscriber, and a smaller payload).
      ...assignments.map((a) => conversationUpdatedEvent({ id: a.conversationId, tenantId }, 'assigned')),
    );
    this.deps.logger.debug({ tenantId, teamId, assigned: assignments.length }, 'conversations routed');
  }

  /**
   * Runs the guards on the team's queued conversations that never had them (see opened()) and
   * stores the verdicts; the pass that follows assigns only those let through. A guard that
   * fails leaves its conversation unchecked (not routed) for the next pass.
   */
  private async checkUnchecked(repo: RoutingRepository, tenantId: string, teamId: string): Promise<void> {
    const ids = await repo.unchecked(teamId);
    if (ids.length === 0) return;
    const answers = await this.verdicts(ids.map((conversationId) => ({ tenantId, conversationId, teamId })));
    const verdicts: Array<{ conversationId: string; holdUntil: Date | null }> = [];
    ids.forEach((conversationId, i) => {
      const v = answers[i];
      if (v !== 'failed' && v !== undefined) verdicts.push({ conversationId, holdUntil: v });
    });
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
          if (run.check) {
            run.check = false;
            await this.checkUnchecked(new RoutingRepository(this.deps.db, tenantId), tenantId, teamId);
          }
          const [done] = await routeTeams(this.deps.db, [{ tenantId, teamId, checked: [] }]);
          const assignments = done?.assignments ?? [];
          this.published(tenantId, teamId, assignments);
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
