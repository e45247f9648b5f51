import type { AppDeps } from '../../shared/deps.js';
import { PeriodicTask } from '../../shared/periodic-task.js';
import { onConversationResolved } from '../conversations/resolution-hooks.js';
import { OpeningWatcher } from './opening-watcher.js';
import { automationEngineFor } from './automation-engine.js';

/**
 * Starts this instance's automations: the resolution hook (RESOLVED text, survey) and the
 * survey sweeper (surveys whose RESOLVED text went out), and the watcher of numbers opening
 * (operating hours). `stop` waits for answers in flight.
 */
export function startAutomations(deps: AppDeps): { stop(): Promise<void> } {
  const engine = automationEngineFor(deps);
  onConversationResolved(deps, (tx, conversation, resolvedById) => engine.onResolved(tx, conversation, resolvedById));
  const surveys = new PeriodicTask('csat-surveys', deps.config.automations.pollMs, () => engine.sendDueSurveys(), deps.logger);
  surveys.start();
  // Numbers opening (operating hours): listeners registered with onNumbersOpened hear of it.
  const watcher = new OpeningWatcher(deps);
  const openings = new PeriodicTask('opening-watcher', deps.config.automations.pollMs, () => watcher.tick(), deps.logger);
  openings.start();
  return {
    async stop() {
      onConversationResolved(deps, null);
      await openings.stop();
      await surveys.stop();
      await engine.drain();
    },
  };
}
