import { badInput } from '../../shared/errors.js';
import { AutomatedMessageTrigger } from './automation.enums.js';

/**
 * {{contact.name}}, {{agent.name}} and {{tenant.name}}, as in quick replies. A minimal renderer
 * of our own: the quick-replies one replaces it once both are on main.
 */
export interface PlaceholderValues {
  contactName: string | null;
  agentName: string | null;
  tenantName: string | null;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z_.]+)\s*\}\}/g;
const KNOWN = new Set(['contact.name', 'agent.name', 'tenant.name']);
export const AUTOMATED_BODY_MAX = 1600;

/** Refuses unknown placeholders, and anything but {{tenant.name}} in FAILURE (answered with the database down). */
export function validateTemplate(body: string, trigger: AutomatedMessageTrigger): string {
  const trimmed = body.trim();
  if (trimmed.length === 0) throw badInput('body must not be empty', 'body');
  if (trimmed.length > AUTOMATED_BODY_MAX) throw badInput(`body is longer than ${AUTOMATED_BODY_MAX} characters`, 'body');
  for (const [, name] of trimmed.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(name!)) throw badInput(`Unknown placeholder {{${name}}}: use {{contact.name}}, {{agent.name}} or {{tenant.name}}`, 'body');
    if (trigger === AutomatedMessageTrigger.FAILURE && name !== 'tenant.name') {
      throw badInput('The FAILURE message may use only {{tenant.name}}: it is answered when the database cannot be reached', 'body');
    }
  }
  return trimmed;
}

/** Fills the placeholders; an unknown value (no contact name yet) becomes empty, spaces tidied. */
export function renderTemplate(body: string, values: PlaceholderValues): string {
  const rendered = body.replace(PLACEHOLDER, (_m, name: string) => {
    if (name === 'contact.name') return values.contactName ?? '';
    if (name === 'agent.name') return values.agentName ?? '';
    if (name === 'tenant.name') return values.tenantName ?? '';
    return '';
  });
  return rendered.replace(/ {2,}/g, ' ').replace(/ ([,.!?])/g, '$1').trim().slice(0, AUTOMATED_BODY_MAX);
}
