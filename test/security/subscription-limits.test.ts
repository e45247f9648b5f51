import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpTenant } from '../helpers/factories.js';
import { collect, subscribed } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3', WS_MAX_SOCKETS_PER_USER: '2', GRAPHQL_MAX_COST: '100' });
});
afterAll(async () => server?.close());

const SIMPLE = 'subscription { conversationUpdated { id status } }';

describe('subscription limits', () => {
  it('caps subscriptions per socket: the ones over the cap get RATE_LIMITED, the others keep working', async () => {
    const t = await signUpTenant(server);
    const client = server.ws(t.token);
    const before = server.app.deps.events.subscriberCount;
    const subs = Array.from({ length: 5 }, () => collect(client, SIMPLE));
    await subscribed(server.app.deps.events, before + 3);
    await waitFor(() => subs.filter((s) => s.errors.length > 0).length === 2, { what: 'two refused subscriptions' });
    for (const s of subs.filter((x) => x.errors.length > 0)) {
      expect(JSON.stringify(s.errors)).toContain('RATE_LIMITED');
    }
    expect(server.app.deps.events.subscriberCount).toBe(before + 3);
    // A freed slot can be used again.
    subs.find((s) => s.errors.length === 0)!.unsubscribe();
    await waitFor(() => server.app.deps.events.subscriberCount === before + 2, { what: 'the unsubscribe' });
    collect(client, SIMPLE);
    await subscribed(server.app.deps.events, before + 3);
  });

  it('caps sockets per user (close code 4429); another user is not affected', async () => {
    const t = await signUpTenant(server);
    const other = await signUpTenant(server);
    const closes: number[] = [];
    const clients = Array.from({ length: 3 }, () =>
      server.ws(t.token, { onNonLazyError: () => {}, on: { closed: (event: unknown) => closes.push((event as { code: number }).code) } }),
    );
    const subs = clients.map((c) => collect(c, SIMPLE));
    await waitFor(() => closes.includes(4429), { what: 'the third socket to be refused' });
    expect(closes.filter((c) => c === 4429)).toHaveLength(1);
    expect(subs.filter((s) => s.errors.length > 0)).toHaveLength(1);

    const otherClient = server.ws(other.token);
    const before = server.app.deps.events.subscriberCount;
    const otherSub = collect(otherClient, SIMPLE);
    await subscribed(server.app.deps.events, before + 1);
    expect(otherSub.errors).toEqual([]);
  });

  it('cost-limits subscription documents like queries', async () => {
    const t = await signUpTenant(server);
    const client = server.ws(t.token);
    const costly = collect(
      client,
      `subscription { conversationUpdated { id messages(first: 100) { edges { node { id body author { id tenant { id name slug } } } } } contact { id conversations { edges { node { id } } } } } }`,
    );
    await waitFor(() => costly.errors.length > 0, { what: 'the costly subscription to be refused' });
    expect(JSON.stringify(costly.errors)).toMatch(/cost/i);
  });
});
