import type { AppDeps } from '../../shared/deps.js';
import { PeriodicTask } from '../../shared/periodic-task.js';
import type { AutomationEngine } from './automation-engine.js';
import { OpeningWatcher } from './opening-watcher.js';

/**
 * Starts this instance's background automation work: the survey sweeper (surveys whose
 * RESOLVED text went out) and the watcher of numbers opening (operating hours). `stop` waits for
 * automated answers still in flight.
 */
export function startAutomations(deps: AppDeps, engine: AutomationEngine): { stop(): Promise<void> } {
  // Routing's hooks: closed numbers hold automatic assignment; a queued opening text is answered
  // ALL_AGENTS_BUSY; numbers opening release their held conversations and route them.
  deps.routing.beforeRouting({ many: (opened) => engine.holdWhileClosed(opened) });
  deps.routing.onQueued((queued) => engine.conversationQueued(queued));
  engine.onNumbersOpened((opened) => engine.releaseOpened(opened));
  const surveys = new PeriodicTask('csat-surveys', deps.config.automations.pollMs, () => engine.sendDueSurveys(), deps.logger);
  surveys.start();
  // Numbers opening (operating hours): listeners registered with deps.automations.onNumbersOpened hear of it.
  const watcher = new OpeningWatcher(deps, () => engine.openedListeners);
  const openings = new PeriodicTask('opening-watcher', deps.config.automations.pollMs, () => watcher.tick(), deps.logger);
  openings.start();
  return {
    async stop() {
      await openings.stop();
      await surveys.stop();
      await engine.drain();
    },
  };
}
