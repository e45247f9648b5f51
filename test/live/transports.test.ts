import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { EventBus, type LiveEvent } from '../../src/events/event-bus.js';
import { PG_MAX_PAYLOAD_BYTES, PgTransport } from '../../src/events/pg-transport.js';
import { RedisTransport } from '../../src/events/redis-transport.js';
import { Coalescer, decodeBatch, encodeBatches } from '../../src/events/wire.js';
import { createLogger } from '../../src/shared/logger.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { startFakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const logger = createLogger('silent');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function events(n: number, tenantId = randomUUID()): LiveEvent[] {
  const types = ['messageAdded', 'messageUpdated', 'conversationUpdated'] as const;
  return Array.from({ length: n }, (_, i) => ({ type: types[i % 3]!, tenantId, id: randomUUID(), conversationId: randomUUID() }));
}

/** Resolves whether something accepts TCP connections at the URL's host and port. */
function reachable(url: string, timeoutMs = 300): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

describe('wire format', () => {
  it('splits batches under the byte limit, in order, and decodes them back', () => {
    const all = events(500);
    const payloads = encodeBatches(all, PG_MAX_PAYLOAD_BYTES);
    expect(payloads.length).toBeGreaterThan(5);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(PG_MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap(decodeBatch)).toEqual(all);
  });

  it('drops malformed input instead of throwing', () => {
    expect(decodeBatch('not json')).toEqual([]);
    expect(decodeBatch('{"a":1}')).toEqual([]);
    expect(decodeBatch('[["?","t","i","c"],[1,2,3,4]]')).toEqual([]); // an unknown type code
  });

  it('coalesces publishes of one tick into one send, and keeps sends in order', async () => {
    const sent: LiveEvent[][] = [];
    const coalescer = new Coalescer(async (batch) => {
      sent.push(batch);
    });
    const [a, b, c] = [events(1), events(2), events(3)];
    await Promise.all([coalescer.add(a), coalescer.add(b), coalescer.add(c)]);
    expect(sent).toEqual([[...a, ...b, ...c]]);
    await coalescer.add(a);
    expect(sent).toHaveLength(2);
  });
});

describe.skipIf(!usingPostgres)('Postgres LISTEN/NOTIFY transport (TEST_DATABASE_URL)', () => {
  let testDb: TestDatabase;
  let one: Database;
  let two: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    // Two connections pools to one database, as two server processes would have.
    [one, two] = await Promise.all(
      [0, 1].map(() => openDatabase({ databaseUrl: testDb.env.DATABASE_URL!, dataDir: 'memory://', poolSize: 2, logger })),
    );
  });
  afterAll(async () => {
    await Promise.allSettled([one?.close(), two?.close()]);
    await testDb?.drop();
  });

  it('carries a burst to every instance, the publisher included, in order, in few NOTIFYs', async () => {
    const a = new PgTransport(one, logger);
    const b = new PgTransport(two, logger);
    const gotA: LiveEvent[][] = [];
    const gotB: LiveEvent[][] = [];
    await a.start((e) => gotA.push(e));
    await b.start((e) => gotB.push(e));
    try {
      const burst = events(300);
      // One tick: three publishes become one flush, split only by the 8,000-byte limit.
      await Promise.all([a.publish(burst.slice(0, 100)), a.publish(burst.slice(100, 200)), a.publish(burst.slice(200))]);
      await waitFor(() => gotB.flat().length === 300 && gotA.flat().length === 300, { what: 'the burst on both instances' });
      expect(gotB.flat()).toEqual(burst);
      expect(gotA.flat()).toEqual(burst);
      expect(gotB.length).toBe(encodeBatches(burst, PG_MAX_PAYLOAD_BYTES).length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('delivers through the bus to subscribers of the event\'s tenant only', async () => {
    const busA = new EventBus(new PgTransport(one, logger), logger);
    const busB = new EventBus(new PgTransport(two, logger), logger);
    await Promise.all([busA.start(), busB.start()]);
    try {
      const tenant = randomUUID();
      const otherTenant = randomUUID();
      const mine = busB.subscribe(tenant, { types: ['messageAdded'] });
      const other = busB.subscribe(otherTenant, { types: ['messageAdded'] });
      const [event] = events(1, tenant).map((e) => ({ ...e, type: 'messageAdded' as const }));
      busA.publish(event!);
      const received = await mine.next();
      expect(received.value).toEqual(event);
      // A marker for the other tenant, published after: it is the first thing the other subscriber gets.
      const marker = { ...event!, tenantId: otherTenant, id: randomUUID() };
      busA.publish(marker);
      expect((await other.next()).value).toEqual(marker);
    } finally {
      await Promise.all([busA.close(), busB.close()]);
    }
  });
});

describe('Redis pub/sub transport (skipped when Redis is unreachable)', async () => {
  const up = await reachable(REDIS_URL);

  it.skipIf(!up)('carries events between two instances, the publisher included', async () => {
    const channel = `sms-inbox:test:${randomUUID()}`;
    const a = await RedisTransport.create(REDIS_URL, logger, channel);
    const b = await RedisTransport.create(REDIS_URL, logger, channel);
    const gotA: LiveEvent[] = [];
    const gotB: LiveEvent[] = [];
    await a.start((e) => gotA.push(...e));
    await b.start((e) => gotB.push(...e));
    try {
      const burst = events(50);
      await Promise.all([a.publish(burst.slice(0, 25)), a.publish(burst.slice(25))]);
      await waitFor(() => gotB.length === 50 && gotA.length === 50, { what: 'the burst on both instances' });
      expect(gotB).toEqual(burst);
      expect(gotA).toEqual(burst);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it.skipIf(!up)('is what a server uses when REDIS_URL is set', async () => {
    const [server, fake] = await Promise.all([startTestServer({ REDIS_URL, DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
    try {
      const bus = server.app.deps.events;
      expect(bus.transportName).toBe('redis');
      const inbox = await setUpInbox(server, fake);
      // Through Redis and back: the publisher's own subscribers hear it from the channel.
      const local = bus.subscribe(inbox.tenant.tenantId, { types: ['conversationUpdated'] });
      const sub = collect(server.ws(inbox.tenant.token), `subscription { conversationUpdated { id } }`);
      await subscribed(bus, 2);
      // An id with no row: the bus delivers it, the subscription skips it without an error.
      const event: LiveEvent = { type: 'conversationUpdated', tenantId: inbox.tenant.tenantId, id: randomUUID(), conversationId: randomUUID() };
      bus.publish(event);
      expect((await local.next()).value).toEqual(event);
      // A marker after it (a customer's text updates a real conversation): the subscription's
      // first event is the marker, so the row-less event was skipped, not delayed.
      const conversationId = await customerTexts(server, inbox, randomUsNumber('650'), 'marker');
      expect((await sub.waitForCount(1)).map((e) => e.id)).toEqual([conversationId]);
      expect(sub.errors).toEqual([]);
      await local.return!();
    } finally {
      await Promise.all([server.close(), fake.close()]);
    }
  });

  it('fails start-up clearly when Redis cannot be reached', async () => {
    const t = await RedisTransport.create('redis://127.0.0.1:1', logger);
    await expect(t.start(() => {})).rejects.toThrow();
  });
});
