import { badInput } from '../../shared/errors.js';
import { assertPlaceholders, renderTemplate as renderPlaceholders } from '../../shared/templates.js';
import { AutomatedMessageTrigger } from './automation.enums.js';

/** {{contact.name}}, {{agent.name}} and {{tenant.name}}: the quick replies' renderer (src/shared/templates.ts). */
export interface PlaceholderValues {
  contactName: string | null;
  agentName: string | null;
  tenantName: string | null;
}

export const AUTOMATED_BODY_MAX = 1600;

/** Refuses unknown placeholders, and anything but {{tenant.name}} in FAILURE (answered with the database down). */
export function validateTemplate(body: string, trigger: AutomatedMessageTrigger): string {
  const trimmed = body.trim();
  if (trimmed.length === 0) throw badInput('body must not be empty', 'body');
  if (trimmed.length > AUTOMATED_BODY_MAX) throw badInput(`body is longer than ${AUTOMATED_BODY_MAX} characters`, 'body');
  assertPlaceholders(trimmed, (message) => badInput(message, 'body'));
  if (trigger === AutomatedMessageTrigger.FAILURE) {
    assertPlaceholders(trimmed, () =>
      badInput('The FAILURE message may use only {{tenant.name}}: it is answered when the database cannot be reached', 'body'),
    ['tenant.name']);
  }
  return trimmed;
}

/** Fills the placeholders; an unknown value (no contact name yet) leaves no trace. */
export function renderTemplate(body: string, values: PlaceholderValues): string {
  return renderPlaceholders(body, {
    'contact.name': values.contactName,
    'agent.name': values.agentName,
    'tenant.name': values.tenantName,
  })
    .trim()
    .slice(0, AUTOMATED_BODY_MAX);
}
