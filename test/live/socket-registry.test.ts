import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rowsOf, type Db } from '../../src/db/client.js';
import { heartbeatLiveSockets, registerLiveSocket } from '../../src/modules/users/limits.repository.js';
import { signUpTenant } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { usingPostgres } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

// The sockets-per-user cap across instances (live_instances, live_sockets): a socket counts while
// its instance's row is alive; an instance's heartbeat renews its one row (not a row per socket);
// an expired instance goes, with its sockets, at the next heartbeat of any instance.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ WS_MAX_SOCKETS_PER_USER: '1' });
});
afterAll(async () => server?.close());

interface Opened {
  ws: WebSocket;
  /** connection_ack, or the close code. */
  outcome: 'ack' | number;
}

async function connect(token: string): Promise<Opened> {
  const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  let outcome: Opened['outcome'] | null = null;
  ws.on('message', (data) => {
    if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') outcome ??= 'ack';
  });
  ws.on('close', (code) => (outcome ??= code));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitFor(() => outcome !== null, { what: 'the connection ack or close' });
  return { ws, outcome: outcome! };
}

const db = () => server.app.deps.db;
async function query<T>(statement: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await db().execute(statement));
}

/** Another instance's socket of the user, that instance's row expiring in `seconds` (negative: expired). */
async function socketOnOtherInstance(userId: string, seconds: number): Promise<string> {
  const instance = randomUUID();
  await db().execute(sql`insert into live_instances (instance_id, expires_at) values (${instance}, now() + make_interval(secs => ${seconds}))`);
  await db().execute(sql`insert into live_sockets (user_id, instance_id) values (${userId}, ${instance})`);
  return instance;
}

describe('sockets per user across instances', () => {
  it('counts a live instance’s socket, not a dead one’s; a heartbeat drops the dead instance and its sockets', async () => {
    const dead = await signUpTenant(server);
    const deadInstance = await socketOnOtherInstance(dead.userId, -1);
    // The only socket of this user belongs to an instance that stopped beating: the cap (1) is free.
    const accepted = await connect(dead.token);
    expect(accepted.outcome).toBe('ack');

    const busy = await signUpTenant(server);
    const liveInstance = await socketOnOtherInstance(busy.userId, 60);
    const refused = await connect(busy.token);
    expect(refused.outcome).toBe(4429);

    const [ours] = await query<{ instance_id: string }>(sql`
      select distinct instance_id from live_sockets where user_id = ${dead.userId} and instance_id <> ${deadInstance}`);
    await heartbeatLiveSockets(db(), ours!.instance_id, 60);
    const instances = (await query<{ instance_id: string }>(sql`select instance_id from live_instances`)).map((r) => r.instance_id);
    expect(instances).toContain(ours!.instance_id);
    expect(instances).toContain(liveInstance);
    expect(instances).not.toContain(deadInstance);
    expect(await query(sql`select id from live_sockets where instance_id = ${deadInstance}`)).toEqual([]);
    expect(await query(sql`select id from live_sockets where instance_id = ${liveInstance}`)).toHaveLength(1);
    accepted.ws.close();
  });

  /** The instance of this server: the one holding the user's socket. */
  async function instanceOf(userId: string): Promise<string> {
    const [row] = await query<{ instance_id: string }>(sql`select instance_id from live_sockets where user_id = ${userId}`);
    return row!.instance_id;
  }

  // Registrations on one instance must not queue on its row: the former ON CONFLICT DO UPDATE
  // ... WHERE locked it (FOR NO KEY UPDATE) even when its WHERE was false, until its commit, so
  // each registration waited for the previous one (1,000 sockets connecting at once: ~20 ms each,
  // in turn). Here one registration is held open while a socket connects. Needs two connections.
  it.skipIf(!usingPostgres)('registers a socket while another registration on the instance is still open', async () => {
    const [first, second, third] = await Promise.all(Array.from({ length: 3 }, () => signUpTenant(server)));
    const opened = [await connect(first!.token)];
    expect(opened[0]!.outcome).toBe('ack');
    const instance = await instanceOf(first!.userId);

    let registered!: () => void;
    const open = new Promise<void>((resolve) => (registered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    class Undone extends Error {}
    const held = db()
      .transaction(async (tx) => {
        const id = await registerLiveSocket(tx as unknown as Db, { userId: second!.userId, instanceId: instance, ttlSeconds: 60, max: 10 });
        expect(id).not.toBeNull();
        registered();
        await released;
        throw new Undone();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Undone)) throw e;
      });
    await open;
    try {
      const meanwhile = await connect(third!.token);
      opened.push(meanwhile);
      expect(meanwhile.outcome).toBe('ack');
    } finally {
      release();
      await held;
    }
    for (const o of opened) o.ws.close();
  });

  it('a registration revives its instance’s row if it expired while the instance stalled', async () => {
    const [first, second] = await Promise.all([signUpTenant(server), signUpTenant(server)]);
    const opened = [await connect(first!.token)];
    expect(opened[0]!.outcome).toBe('ack');
    const instance = await instanceOf(first!.userId);
    const alive = async () =>
      (await query<{ alive: boolean }>(sql`select expires_at > now() as alive from live_instances where instance_id = ${instance}`))[0]!.alive;
    await db().execute(sql`update live_instances set expires_at = now() - interval '1 second' where instance_id = ${instance}`);
    expect(await alive()).toBe(false);
    opened.push(await connect(second!.token));
    expect(opened[1]!.outcome).toBe('ack');
    expect(await alive()).toBe(true);
    for (const o of opened) o.ws.close();
  });

  it('a heartbeat renews the instance’s one row and rewrites none of its sockets’ rows', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => signUpTenant(server)));
    const opened = await Promise.all(users.map((u) => connect(u.token)));
    expect(opened.map((o) => o.outcome)).toEqual(['ack', 'ack', 'ack', 'ack']);
    const userIds = users.map((u) => u.userId);
    const before = await query<{ id: string; instance_id: string; version: string }>(sql`
      select id, instance_id, xmin::text as version from live_sockets where user_id = any(${`{${userIds.join(',')}}`}::uuid[]) order by id`);
    expect(before).toHaveLength(4);
    const instance = before[0]!.instance_id;
    const [{ expires_at: was }] = (await query<{ expires_at: string }>(sql`select expires_at::text from live_instances where instance_id = ${instance}`)) as [{ expires_at: string }];
    await heartbeatLiveSockets(db(), instance, 120);
    const after = await query<{ id: string; instance_id: string; version: string }>(sql`
      select id, instance_id, xmin::text as version from live_sockets where user_id = any(${`{${userIds.join(',')}}`}::uuid[]) order by id`);
    expect(after).toEqual(before);
    const [{ later }] = (await query<{ later: boolean }>(sql`
      select expires_at > ${was}::timestamptz as later from live_instances where instance_id = ${instance}`)) as [{ later: boolean }];
    expect(later).toBe(true);
    for (const o of opened) o.ws.close();
  });
});
