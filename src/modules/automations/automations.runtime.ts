import type { AppDeps } from '../../shared/deps.js';
import { PeriodicTask } from '../../shared/periodic-task.js';
import { onConversationResolved } from '../conversations/resolution-hooks.js';
import { automationEngineFor } from './automation-engine.js';

/**
 * Starts this instance's automations: the resolution hook (RESOLVED text, survey) and the
 * survey sweeper (surveys whose RESOLVED text went out). `stop` waits for answers in flight.
 */
export function startAutomations(deps: AppDeps): { stop(): Promise<void> } {
  const engine = automationEngineFor(deps);
  onConversationResolved(deps, (tx, conversation, resolvedById) => engine.onResolved(tx, conversation, resolvedById));
  const surveys = new PeriodicTask('csat-surveys', deps.config.automations.pollMs, () => engine.sendDueSurveys(), deps.logger);
  surveys.start();
  return {
    async stop() {
      onConversationResolved(deps, null);
      await surveys.stop();
      await engine.drain();
    },
  };
}
