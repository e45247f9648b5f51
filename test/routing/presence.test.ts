import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { agents, createTeam, listConversations, openConversations, setAvailability, teamNumber, type Agent } from './routing-setup.js';

const OFFLINE_AFTER_SECONDS = 2;
const AVAILABILITY = `query { me { id availability } }`;

let fake: FakeTwilio;
let server: TestServer;
let inbox: Inbox;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ DISPATCHER_ENABLED: 'false', PRESENCE_OFFLINE_AFTER_SECONDS: String(OFFLINE_AFTER_SECONDS) });
  inbox = await setUpInbox(server, fake, { tenantName: 'Presence' });
}, 240_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

async function availabilityOf(token: string): Promise<string> {
  return (await server.gql(AVAILABILITY, {}, token)).data!.me.availability;
}

describe('availability and presence', () => {
  it('new users are OFFLINE; setAvailability changes one\'s own and publishes userUpdated', async () => {
    const [agent] = (await agents(server, inbox.tenant.token, 1)) as [Agent];
    expect(await availabilityOf(agent.token)).toBe('OFFLINE');
    const before = server.app.deps.events.subscriberCount;
    const updates = collect(server.ws(inbox.tenant.token), `subscription { userUpdated { id availability } }`);
    await subscribed(server.app.deps.events, before + 1);
    await setAvailability(server, agent.token, 'AWAY');
    await waitFor(() => updates.events.find((e) => e.id === agent.id && e.availability === 'AWAY'), { what: 'userUpdated AWAY' });
    const listed = await server.gql(`query { teams { id } me { teams { id } } }`, {}, agent.token);
    expect(listed.data).toEqual({ teams: [], me: { teams: [] } });
  });

  it('an agent whose socket closes becomes OFFLINE after the delay, stops receiving assignments, and is not made ONLINE by reconnecting', async () => {
    const [agent] = (await agents(server, inbox.tenant.token, 1)) as [Agent];
    const team = await createTeam(server, inbox.tenant.token, { strategy: 'ROUND_ROBIN', memberIds: [agent.id] });
    const number = await teamNumber(server, inbox, team.id);
    const before = server.app.deps.events.subscriberCount;
    const updates = collect(server.ws(inbox.tenant.token), `subscription { userUpdated { id availability } }`);
    const dashboard = server.ws(agent.token);
    const connected = new Promise<void>((resolve) => dashboard.on('connected', () => resolve()));
    collect(dashboard, `subscription { conversationUpdated { id } }`);
    await connected;
    await subscribed(server.app.deps.events, before + 2);
    await setAvailability(server, agent.token, 'ONLINE');

    // With the socket open, heartbeats keep the agent ONLINE well past the delay.
    await sleep(OFFLINE_AFTER_SECONDS * 1000 * 2);
    expect(await availabilityOf(agent.token)).toBe('ONLINE');
    await openConversations(server, inbox, number.e164, 1);
    await waitFor(async () => (await listConversations(server, inbox.tenant.token, { teamId: team.id, assigneeId: agent.id })).length === 1, {
      what: 'an assignment while ONLINE',
    });

    const closedAt = Date.now();
    await dashboard.dispose();
    await waitFor(() => updates.events.find((e) => e.id === agent.id && e.availability === 'OFFLINE'), {
      timeoutMs: 15_000,
      what: 'userUpdated OFFLINE',
    });
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(OFFLINE_AFTER_SECONDS * 1000 - 100);
    expect(await availabilityOf(agent.token)).toBe('OFFLINE');
    // Going OFFLINE kept the conversation assigned; a new one now waits.
    expect(await listConversations(server, inbox.tenant.token, { teamId: team.id, assigneeId: agent.id })).toHaveLength(1);
    await openConversations(server, inbox, number.e164, 1);
    const waiting = await waitFor(async () => {
      const list = await listConversations(server, inbox.tenant.token, { teamId: team.id, unassigned: true });
      return list.length === 1 ? list : undefined;
    });
    expect(waiting).toHaveLength(1);

    // Reconnecting does not make them ONLINE by itself.
    const again = server.ws(agent.token);
    await new Promise<void>((resolve) => again.on('connected', () => resolve()));
    await sleep(OFFLINE_AFTER_SECONDS * 1000);
    expect(await availabilityOf(agent.token)).toBe('OFFLINE');
    expect(await listConversations(server, inbox.tenant.token, { teamId: team.id, unassigned: true })).toHaveLength(1);
    await again.dispose();
  }, 240_000);
});
