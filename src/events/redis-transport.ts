import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import type { EventTransport, LiveEvent } from './event-bus.js';
import { Coalescer, decodeBatch, encodeBatches, newOrigin, sentBy } from './wire.js';

export const REDIS_CHANNEL = 'sms-inbox:live';
/** Redis has no small limit; batches stay small so one slow subscriber read never grows large. */
const REDIS_MAX_PAYLOAD_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Live events between instances through Redis pub/sub (REDIS_URL). Two connections: a
 * subscribed connection can do nothing but listen. As with Postgres, the publisher's own
 * subscribers have the events from its bus; its payloads coming back are skipped by origin tag.
 */
export class RedisTransport implements EventTransport {
  readonly name = 'redis';

  /** ioredis is loaded only when REDIS_URL is set (it takes about 0.2 s to load: every start would pay it). */
  static async create(url: string, logger: Logger, channel = REDIS_CHANNEL): Promise<RedisTransport> {
    const { Redis } = await import('ioredis');
    return new RedisTransport(Redis, url, logger, channel);
  }

  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly coalescer: Coalescer;
  private readonly origin = newOrigin();

  private constructor(
    RedisClient: typeof Redis,
    url: string,
    private readonly logger: Logger,
    private readonly channel: string,
  ) {
    const options = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 3 };
    this.pub = new RedisClient(url, options);
    this.sub = new RedisClient(url, options);
    // Without listeners ioredis reports connection errors as unhandled; it reconnects by itself.
    for (const [role, client] of [['publisher', this.pub], ['subscriber', this.sub]] as const) {
      client.on('error', (err: unknown) => this.logger.warn({ err, role }, 'redis connection error'));
    }
    this.coalescer = new Coalescer((events) => this.send(events));
  }

  async start(deliver: (events: LiveEvent[]) => void): Promise<void> {
    try {
      await withTimeout(Promise.all([this.pub.connect(), this.sub.connect()]), CONNECT_TIMEOUT_MS, 'Redis did not answer');
      this.sub.on('message', (channel: string, payload: string) => {
        if (channel !== this.channel || sentBy(payload, this.origin)) return;
        const events = decodeBatch(payload);
        if (events.length > 0) deliver(events);
      });
      await this.sub.subscribe(this.channel);
    } catch (err) {
      this.pub.disconnect();
      this.sub.disconnect();
      throw err;
    }
  }

  publish(events: LiveEvent[]): Promise<void> {
    return this.coalescer.add(events);
  }

  private async send(events: LiveEvent[]): Promise<void> {
    for (const payload of encodeBatches(events, REDIS_MAX_PAYLOAD_BYTES, this.origin)) await this.pub.publish(this.channel, payload);
  }

  /** Both connections up and the server answering: else /readyz fails (events would be lost). */
  async ping(): Promise<void> {
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready') throw new Error(`Redis is ${this.pub.status}/${this.sub.status}`);
    await withTimeout(this.pub.ping(), 1000, 'Redis did not answer PING');
  }

  async close(): Promise<void> {
    await this.coalescer.drain();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
