/**
 * Fills {{contact.name}} and {{tenant.name}} in a campaign body (spaces inside the braces
 * allowed). Minimal on purpose: the inbox's quick-reply renderer is the one to use once it exists.
 * A missing value renders as an empty string, and the doubled spaces it leaves are folded.
 */
export interface PlaceholderValues {
  contactName: string | null;
  tenantName: string | null;
}

const PLACEHOLDER = /\{\{\s*(contact\.name|tenant\.name)\s*\}\}/g;

export function renderCampaignBody(body: string, values: PlaceholderValues): string {
  if (!body.includes('{{')) return body;
  const rendered = body.replace(PLACEHOLDER, (_, key: string) => (key === 'contact.name' ? values.contactName : values.tenantName) ?? '');
  return rendered.replace(/ {2,}/g, ' ').replace(/ ([,.!?])/g, '$1').trim();
}
