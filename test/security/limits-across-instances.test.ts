import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUTH_FIELDS, uniqueEmail } from '../helpers/factories.js';
import { startChildServer, sharedEnv, type ChildServer } from '../helpers/child-server.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;

/**
 * Log-in limits and the sockets-per-user cap hold across two server processes on one Postgres:
 * attempts or sockets spread over both instances are counted once (rate_limit_counters,
 * live_sockets), not per instance.
 */
describe.skipIf(!usingPostgres)('limits across two server processes on one Postgres', () => {
  let testDb: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  const sockets: Client[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const env = {
      ...sharedEnv(testDb.env.DATABASE_URL!),
      LOGIN_MAX_FAILURES: '5',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '12',
      WS_MAX_SOCKETS_PER_USER: '2',
      // One trusted proxy: each test gives its client an address of its own.
      TRUST_PROXY: '1',
    };
    // Started together: migrations are serialised by an advisory lock.
    [a, b] = await Promise.all([startChildServer(env, 120_000), startChildServer(env, 120_000)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(sockets.map((s) => s.dispose()));
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await testDb?.drop();
  });

  async function signUp(server: ChildServer) {
    const email = uniqueEmail('admin');
    const res = await server.gql(SIGN_UP, { input: { tenantName: 'Limits Co', name: 'Ada', email, password: 'correct horse battery' } });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return { email, password: 'correct horse battery', token: res.data!.signUp.token as string, userId: res.data!.signUp.user.id as string };
  }
  /** A log-in as a client at `ip` behind the one trusted proxy. */
  async function logIn(server: ChildServer, ip: string, input: Record<string, unknown>) {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ query: LOG_IN, variables: { input } }),
    });
    return (await res.json()) as { data?: any; errors?: Array<{ extensions?: Record<string, unknown> }> };
  }
  const code = (r: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => r.errors?.[0]?.extensions?.code as string | undefined;

  it('wrong guesses for one email alternating between the instances are refused after the 5th, on both', async () => {
    const t = await signUp(a);
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 8; i++) {
      const server = i % 2 === 0 ? a : b;
      codes.push(code(await logIn(server, `198.51.100.${i + 1}`, { email: t.email, password: `wrong ${i}` })));
    }
    expect(codes).toEqual([...Array(5).fill('UNAUTHENTICATED'), ...Array(3).fill('RATE_LIMITED')]);
    // The right password waits too, on either instance.
    expect(code(await logIn(a, '198.51.100.101', { email: t.email, password: t.password }))).toBe('RATE_LIMITED');
    expect(code(await logIn(b, '198.51.100.102', { email: t.email, password: t.password }))).toBe('RATE_LIMITED');
  });

  it('20 parallel wrong guesses split over both instances: exactly 5 are checked', async () => {
    const t = await signUp(b);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => logIn(i % 2 === 0 ? a : b, `198.51.101.${i + 1}`, { email: t.email, password: `parallel ${i}` })),
    );
    const codes = results.map(code);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(15);
  });

  it('the per-address count is shared too: one address guessing many emails over both instances', async () => {
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 16; i++) {
      const server = i % 2 === 0 ? a : b;
      codes.push(code(await logIn(server, '203.0.113.50', { email: uniqueEmail('nobody'), password: 'whatever pw' })));
    }
    expect(codes).toEqual([...Array(12).fill('UNAUTHENTICATED'), ...Array(4).fill('RATE_LIMITED')]);
    // Another address is not affected, on either instance.
    const t = await signUp(b);
    const ok = await logIn(a, '203.0.113.51', { email: t.email, password: t.password });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.logIn.user.email).toBe(t.email);
  });

  it('sockets over the cap on B are refused with 4429 while A holds the user’s 2; a freed slot on A can be used on B', async () => {
    const t = await signUp(a);
    const open = (server: ChildServer) => {
      const events: { connected: boolean; closed: Array<{ code: number; reason: string }> } = { connected: false, closed: [] };
      const client = createClient({
        url: `${server.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
        connectionParams: { authorization: `Bearer ${t.token}` },
        on: {
          connected: () => (events.connected = true),
          closed: (event) => events.closed.push({ code: (event as { code: number }).code, reason: (event as { reason: string }).reason }),
        },
      });
      sockets.push(client);
      return { client, events };
    };
    const first = open(a);
    const second = open(a);
    await waitFor(() => first.events.connected && second.events.connected, { timeoutMs: 15_000, what: 'two sockets on A' });

    const third = open(b);
    await waitFor(() => third.events.closed.length > 0, { timeoutMs: 15_000, what: 'the socket on B to be refused' });
    expect(third.events.connected).toBe(false);
    expect(third.events.closed[0]).toEqual({ code: 4429, reason: 'At most 2 connections per user' });

    // Closing one on A frees a slot for B (the release is a row delete: wait for it through B).
    await first.client.dispose();
    let fourth = open(b);
    await waitFor(
      () => {
        if (fourth.events.connected) return true;
        if (fourth.events.closed.length > 0) fourth = open(b);
        return false;
      },
      { timeoutMs: 15_000, what: 'a socket on B once A closed one' },
    );
    // Now A and B hold one each: a third anywhere is refused.
    const fifth = open(a);
    await waitFor(() => fifth.events.closed.length > 0, { timeoutMs: 15_000, what: 'the socket on A to be refused' });
    expect(fifth.events.closed[0]?.code).toBe(4429);
  });
});
