/**
 * Placeholders in saved texts (quick replies, automated messages, campaigns): `{{contact.name}}`,
 * `{{agent.name}}`, `{{tenant.name}}`, spaces inside the braces allowed (`{{ contact.name }}`).
 * Pure functions, no I/O: a text is checked once when it is saved (`unknownPlaceholders` /
 * `assertPlaceholders`) and filled in when it is used (`renderTemplate`), which never fails.
 */
export const PLACEHOLDERS = ['contact.name', 'agent.name', 'tenant.name'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The values to fill in; a missing, null or blank value renders as nothing. */
export type PlaceholderValues = Partial<Record<Placeholder, string | null | undefined>>;

// `{{ name }}`: what a user means as a placeholder, whatever its name (so a typo is caught).
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The placeholders used in `template` that are not in `allowed`, each once, in order of appearance. */
export function unknownPlaceholders(template: string, allowed: readonly string[] = PLACEHOLDERS): string[] {
  const unknown: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!allowed.includes(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

/** Throws `makeError(message)` when `template` uses a placeholder outside `allowed`. */
export function assertPlaceholders(
  template: string,
  makeError: (message: string) => Error,
  allowed: readonly string[] = PLACEHOLDERS,
): void {
  const unknown = unknownPlaceholders(template, allowed);
  if (unknown.length > 0) {
    const list = unknown.map((name) => `{{${name}}}`).join(', ');
    throw makeError(`Unknown placeholder ${list}; allowed: ${allowed.map((name) => `{{${name}}}`).join(', ')}`);
  }
}

// Marks where a placeholder rendered as nothing, so the spaces around it can be tidied. NUL can
// never be part of a stored text (Postgres refuses it in text columns).
const GAP = '\u0000';

/**
 * Fills the placeholders in. One that renders as nothing leaves no trace: no double space, no
 * space before punctuation, none at a line's start or end ("Hi {{contact.name}}, thanks" →
 * "Hi, thanks"). Placeholders outside PLACEHOLDERS (never saved, see assertPlaceholders) stay as
 * written.
 */
export function renderTemplate(template: string, values: PlaceholderValues): string {
  let gaps = false;
  const filled = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) return whole;
    const value = values[name as Placeholder]?.trim();
    if (value) return value;
    gaps = true;
    return GAP;
  });
  if (!gaps) return filled;
  return filled
    .replace(/[ \t]*\u0000(?:[ \t]*\u0000)*[ \t]*/g, (run, offset: number, whole: string) => {
      const before = whole[offset - 1];
      const after = whole[offset + run.length];
      // Between two words: one space. Against punctuation, a line edge or the text's edge: none.
      const betweenWords = before !== undefined && before !== '\n' && after !== undefined && after !== '\n' && !/[,.;:!?)]/.test(after);
      return betweenWords && /[ \t]/.test(run) ? ' ' : '';
    })
    .replace(/\u0000/g, '');
}
