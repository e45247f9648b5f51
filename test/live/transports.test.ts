import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { EventBus, type LiveEvent } from '../../src/events/event-bus.js';
import { PG_MAX_PAYLOAD_BYTES, PgTransport } from '../../src/events/pg-transport.js';
import { REDIS_CHANNEL, RedisTransport } from '../../src/events/redis-transport.js';
import { Coalescer, decodeBatch, encodeBatches, newOrigin, sentBy } from '../../src/events/wire.js';
import fc from 'fast-check';
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
    const origin = newOrigin();
    const payloads = encodeBatches(all, PG_MAX_PAYLOAD_BYTES, origin);
    expect(payloads.length).toBeGreaterThan(5);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(PG_MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap(decodeBatch)).toEqual(all);
    // Every payload names its sender, and only its sender.
    expect(payloads.every((p) => sentBy(p, origin))).toBe(true);
    expect(payloads.some((p) => sentBy(p, newOrigin()))).toBe(false);
  });

  it('carries ids only: a committed row and a local hint stay on the publishing instance', () => {
    const [plain] = events(1);
    const local: LiveEvent = {
      ...plain!,
      change: 'opened',
      committed: { row: { id: plain!.id, body: 'a customer’s private text' }, holder: { teamId: null, assigneeId: null } },
    };
    const origin = newOrigin();
    const payloads = encodeBatches([local], PG_MAX_PAYLOAD_BYTES, origin);
    expect(payloads).toEqual(encodeBatches([plain!], PG_MAX_PAYLOAD_BYTES, origin));
    expect(payloads.flatMap(decodeBatch)).toEqual([plain]);
  });

  it('keeps every payload within any byte limit and loses nothing (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const event = fc.record({
      type: fc.constantFrom('messageAdded', 'conversationUpdated', 'conversationRemoved', 'userUpdated'),
      tenantId: text,
      id: text,
      conversationId: text,
      extra: fc.option(text, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.integer({ min: 300, max: 2000 }), (raw, maxBytes) => {
        const all = raw.map(({ extra, ...e }) => (extra === undefined ? e : { ...e, extra })) as LiveEvent[];
        const payloads = encodeBatches(all, maxBytes, newOrigin());
        for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(maxBytes);
        expect(payloads.flatMap(decodeBatch)).toEqual(all);
      }),
    );
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

  it('gathers what is published during a send into one send after it, in order', async () => {
    const sent: LiveEvent[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const coalescer = new Coalescer(async (batch) => {
      sent.push(batch);
      if (sent.length === 1) await gate; // the first send stays in flight
    });
    const [a, b, c] = [events(1), events(2), events(3)];
    const first = coalescer.add(a);
    await waitFor(() => sent.length === 1, { what: 'the first send' });
    // Three more ticks while it is in flight: nothing is sent until it ends.
    const later = [coalescer.add(b)];
    await new Promise((resolve) => setImmediate(resolve));
    later.push(coalescer.add(c));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
    release();
    await Promise.all([first, ...later]);
    expect(sent).toEqual([a, [...b, ...c]]);
  });

  it('reports a failed send to its publishers and goes on with the next batch', async () => {
    const sent: LiveEvent[][] = [];
    const coalescer = new Coalescer(async (batch) => {
      sent.push(batch);
      if (sent.length === 1) throw new Error('down');
    });
    await expect(coalescer.add(events(1))).rejects.toThrow('down');
    await coalescer.add(events(2));
    expect(sent.map((batch) => batch.length)).toEqual([1, 2]);
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

  it('carries a burst to the other instance in order, in few NOTIFYs; the publisher skips its own', async () => {
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
      await waitFor(() => gotB.flat().length === 300, { what: 'the burst on the other instance' });
      expect(gotB.flat()).toEqual(burst);
      expect(gotB.length).toBe(encodeBatches(burst, PG_MAX_PAYLOAD_BYTES, newOrigin()).length);
      // A marker from B, sent after A's burst was committed: the first thing A hears, so A's own
      // payloads (delivered to A's listener before it, in commit order) were skipped.
      const marker = events(1);
      await b.publish(marker);
      await waitFor(() => gotA.flat().length > 0, { what: 'the marker on the publisher' });
      expect(gotA.flat()).toEqual(marker);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('delivers through the bus to subscribers of the event\'s tenant only, once on the publisher too', async () => {
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

      // The publisher's own subscriber hears its event once: from its bus at once, not again
      // from the channel (B's marker, published after B received the event, comes next).
      const local = busA.subscribe(tenant, { types: ['messageAdded'] });
      const [own] = events(1, tenant).map((e) => ({ ...e, type: 'messageAdded' as const }));
      busA.publish(own!);
      expect((await local.next()).value).toEqual(own);
      expect((await mine.next()).value).toEqual(own);
      const fromB = { ...own!, id: randomUUID() };
      busB.publish(fromB);
      expect((await local.next()).value).toEqual(fromB);
    } finally {
      await Promise.all([busA.close(), busB.close()]);
    }
  });
});

describe('Redis pub/sub transport (skipped when Redis is unreachable)', async () => {
  const up = await reachable(REDIS_URL);

  it.skipIf(!up)('carries events between two instances; the publisher skips its own', async () => {
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
      await waitFor(() => gotB.length === 50, { what: 'the burst on the other instance' });
      expect(gotB).toEqual(burst);
      // B's marker, published after the burst reached B, is the first thing A hears.
      const marker = events(1);
      await b.publish(marker);
      await waitFor(() => gotA.length > 0, { what: 'the marker on the publisher' });
      expect(gotA).toEqual(marker);
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
      // Another instance listening on the server's channel: what the server publishes crosses Redis.
      const remote = await RedisTransport.create(REDIS_URL, logger, REDIS_CHANNEL);
      const heard: LiveEvent[] = [];
      await remote.start((e) => heard.push(...e));
      const local = bus.subscribe(inbox.tenant.tenantId, { types: ['conversationUpdated'] });
      const sub = collect(server.ws(inbox.tenant.token), `subscription { conversationUpdated { id } }`);
      await subscribed(bus, 2);
      // An id with no row: the bus delivers it, the subscription skips it without an error.
      const event: LiveEvent = { type: 'conversationUpdated', tenantId: inbox.tenant.tenantId, id: randomUUID(), conversationId: randomUUID() };
      bus.publish(event);
      expect((await local.next()).value).toEqual(event);
      await waitFor(() => heard.some((e) => e.id === event.id), { what: 'the event on the other instance' });
      await remote.close();
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
