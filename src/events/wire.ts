import { randomBytes } from 'node:crypto';
import type { LiveEvent, LiveEventType } from './event-bus.js';

/**
 * The wire format shared by the cross-instance transports: a JSON array led by the sending
 * instance's origin tag, then compact events ([type code, tenant id, id, conversation id, optional
 * extra]), in batches kept under a byte limit (Postgres NOTIFY refuses payloads of 8,000 bytes or
 * more). Ids only: receivers load the rows. The origin tag lets an instance skip its own payloads
 * when they come back on the channel: its bus has delivered them locally already.
 */
const CODES: Record<LiveEventType, string> = {
  messageAdded: 'a',
  messageUpdated: 'u',
  conversationUpdated: 'c',
  authChanged: 's',
  conversationRemoved: 'r',
  userUpdated: 'p',
  teamsChanged: 't',
  contactUpdated: 'k',
  campaignUpdated: 'g',
  apiKeyRevoked: 'x',
  twilioAccountChanged: 'w',
};
const TYPES: Record<string, LiveEventType> = Object.fromEntries(Object.entries(CODES).map(([type, code]) => [code, type as LiveEventType]));

/** A fresh origin tag for one transport (one instance): 12 hex characters. */
export function newOrigin(): string {
  return randomBytes(6).toString('hex');
}

/** True when `payload` was sent by the transport tagged `origin` (cheap: no parsing). */
export function sentBy(payload: string, origin: string): boolean {
  return payload.startsWith(`["${origin}"`);
}

/** Splits events into payloads of at most maxBytes each (UTF-8), preserving order, each led by `origin`. */
export function encodeBatches(events: readonly LiveEvent[], maxBytes: number, origin: string): string[] {
  const head = `[${JSON.stringify(origin)}`;
  const empty = Buffer.byteLength(head) + 1; // the tag and the closing bracket
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = empty;
  for (const e of events) {
    const fields = [CODES[e.type], e.tenantId, e.id, e.conversationId];
    if (e.extra !== undefined) fields.push(e.extra);
    const part = JSON.stringify(fields);
    const bytes = Buffer.byteLength(part) + 1; // with its comma
    if (empty + bytes > maxBytes) throw new Error(`a live event does not fit in ${maxBytes} bytes`);
    if (parts.length > 0 && size + bytes > maxBytes) {
      payloads.push(`${head},${parts.join(',')}]`);
      parts = [];
      size = empty;
    }
    size += bytes;
    parts.push(part);
  }
  if (parts.length > 0) payloads.push(`${head},${parts.join(',')}]`);
  return payloads;
}

/** The events of one payload (its origin tag skipped); malformed entries (another sender on the channel) are dropped. */
export function decodeBatch(payload: string): LiveEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const events: LiveEvent[] = [];
  for (const item of parsed) {
    if (typeof item === 'string') continue; // the origin tag
    if (!Array.isArray(item) || (item.length !== 4 && item.length !== 5) || !item.every((x) => typeof x === 'string')) continue;
    const [code, tenantId, id, conversationId, extra] = item as string[];
    const type = TYPES[code!];
    if (!type) continue;
    const event: LiveEvent = { type, tenantId: tenantId!, id: id!, conversationId: conversationId! };
    if (extra !== undefined) event.extra = extra;
    events.push(event);
  }
  return events;
}

/**
 * Gathers the events published within one turn of the event loop into one send (one NOTIFY
 * for a webhook's messageAdded + conversationUpdated, or for a burst), and sends batches in
 * order, one after the other. While a send is in flight, what is published meanwhile waits and
 * goes as one batch when it ends (group commit): at 500 texts/s most ticks carried one text's
 * events, and each was a NOTIFY statement (a round trip) of its own (bench, issue 16). An idle
 * transport sends on the next turn as before, so the wait only exists under load.
 */
export class Coalescer {
  private pending: LiveEvent[] = [];
  private scheduled: Promise<void> | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly send: (events: LiveEvent[]) => Promise<void>) {}

  add(events: readonly LiveEvent[]): Promise<void> {
    this.pending.push(...events);
    this.scheduled ??= this.tail
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.scheduled = null;
        const batch = this.pending;
        this.pending = [];
        const sent = this.send(batch);
        // A failed send is reported to its publishers; it must not block the ones after it.
        this.tail = sent.catch(() => {});
        return sent;
      });
    return this.scheduled;
  }

  /** Resolves once everything added so far has been sent (or failed). */
  async drain(): Promise<void> {
    await this.scheduled?.catch(() => {});
    await this.tail;
  }
}
