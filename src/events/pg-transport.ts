import type { Database, NotificationListener } from '../db/client.js';
import type { Logger } from '../shared/logger.js';
import type { EventTransport, LiveEvent } from './event-bus.js';
import { Coalescer, decodeBatch, encodeBatches, newOrigin, sentBy } from './wire.js';

export const PG_CHANNEL = 'sms_inbox_live';
/** Postgres refuses NOTIFY payloads of 8,000 bytes or more; keep a margin. */
export const PG_MAX_PAYLOAD_BYTES = 7900;

/**
 * Live events between instances through Postgres LISTEN/NOTIFY: no extra infrastructure, and
 * NOTIFY is per database, so instances on one database share events and nothing else does.
 * The publisher's own subscribers have the events from its bus at once; its payloads coming back
 * on the channel are skipped by their origin tag.
 *
 * Delivery is best effort, like any pub/sub: events sent while the LISTEN connection is being
 * re-established are lost (clients refetch on reconnect).
 */
export class PgTransport implements EventTransport {
  readonly name = 'postgres';
  private listener: NotificationListener | null = null;
  private readonly coalescer: Coalescer;
  private readonly origin = newOrigin();

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly channel = PG_CHANNEL,
  ) {
    if (!database.listen || !database.sql) throw new Error('PgTransport needs a Postgres database (LISTEN/NOTIFY)');
    this.coalescer = new Coalescer((events) => this.notify(events));
  }

  async start(deliver: (events: LiveEvent[]) => void): Promise<void> {
    this.listener = await this.database.listen!(this.channel, (payload) => {
      if (sentBy(payload, this.origin)) return;
      const events = decodeBatch(payload);
      if (events.length > 0) deliver(events);
      else this.logger.warn({ bytes: payload.length }, 'ignored a malformed live event payload');
    });
  }

  publish(events: LiveEvent[]): Promise<void> {
    return this.coalescer.add(events);
  }

  /**
   * One statement (one round trip, one commit) for all the payloads a burst needs: a routing pass
   * of 250 assignments is five payloads. Postgres delivers a transaction's notifications in the
   * order they were issued, and unnest keeps the array's order.
   */
  private async notify(events: LiveEvent[]): Promise<void> {
    const sql = this.database.sql!;
    const payloads = encodeBatches(events, PG_MAX_PAYLOAD_BYTES, this.origin);
    if (payloads.length === 1) await sql`select pg_notify(${this.channel}, ${payloads[0]!})`;
    else if (payloads.length > 1) await sql`select pg_notify(${this.channel}, p) from unnest(${payloads}::text[]) as p`;
  }

  async close(): Promise<void> {
    await this.coalescer.drain();
    await this.listener?.unlisten().catch((err: unknown) => this.logger.warn({ err }, 'unlisten failed'));
    this.listener = null;
  }
}
