import { createAgent } from '../helpers/factories.js';
import type { Inbox } from '../helpers/inbox.js';
import { randomUsNumber } from '../helpers/inbox.js';
import type { GqlResult } from '../helpers/test-server.js';
import { addNumber, sendInbound } from '../helpers/twilio-setup.js';
import type { TestServer } from '../helpers/test-server.js';

/** What these tests need of a server: GraphQL over HTTP (a test server or a child process). */
export interface GqlServer {
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
}

export interface Agent {
  id: string;
  token: string;
}

export const TEAM_FIELDS = 'id name strategy agentCapacity members { id } createdAt';

export function must<T = Record<string, any>>(res: GqlResult<T>, what: string): T {
  if (res.errors) throw new Error(`${what} failed: ${JSON.stringify(res.errors)}`);
  return res.data!;
}

export async function createTeam(
  server: GqlServer,
  adminToken: string,
  input: { name?: string; strategy?: string; agentCapacity?: number | null; memberIds?: string[] },
): Promise<{ id: string; name: string }> {
  const res = await server.gql(
    `mutation($input: CreateTeamInput!) { createTeam(input: $input) { ${TEAM_FIELDS} } }`,
    { input: { name: `Team ${Math.random().toString(36).slice(2, 8)}`, ...input } },
    adminToken,
  );
  return must(res, 'createTeam').createTeam;
}

export async function setAvailability(server: GqlServer, token: string, availability: 'ONLINE' | 'AWAY' | 'OFFLINE'): Promise<void> {
  must(await server.gql(`mutation($a: Availability!) { setAvailability(availability: $a) { id availability } }`, { a: availability }, token), 'setAvailability');
}

export async function agents(server: TestServer, adminToken: string, n: number): Promise<Agent[]> {
  const out: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const a = await createAgent(server, adminToken);
    out.push({ id: a.id, token: a.token });
  }
  return out;
}

/** A second number of the inbox's account, routed to `teamId`. */
export async function teamNumber(server: TestServer, inbox: Inbox, teamId: string | null): Promise<{ id: string; e164: string }> {
  return addNumber(server, inbox.tenant.token, inbox.account.id, randomUsNumber(), teamId ? { teamId } : {});
}

/** `n` customers text `to` at once; each opens a conversation. */
export async function openConversations(server: TestServer, inbox: Inbox, to: string, n: number, body = 'Hello'): Promise<string[]> {
  const customers = Array.from({ length: n }, () => randomUsNumber('650'));
  const responses = await Promise.all(customers.map((from) => sendInbound(server, inbox.account, { from, to, body })));
  for (const r of responses) if (r.status !== 200) throw new Error(`inbound answered ${r.status}`);
  return customers;
}

export interface ConversationView {
  id: string;
  status: string;
  assignee: { id: string } | null;
  team: { id: string } | null;
  contact: { phoneNumber: string };
}

/** Every conversation the token may see with these filters (pages of 50 followed). */
export async function listConversations(
  server: GqlServer,
  token: string,
  filters: Record<string, unknown> = {},
): Promise<ConversationView[]> {
  const out: ConversationView[] = [];
  let after: string | null = null;
  for (;;) {
    const res: GqlResult = await server.gql(
      `query($after: String, $teamId: ID, $unassigned: Boolean, $phoneNumberId: ID, $status: ConversationStatus, $assigneeId: ID) {
        conversations(first: 50, after: $after, teamId: $teamId, unassigned: $unassigned, phoneNumberId: $phoneNumberId, status: $status, assigneeId: $assigneeId) {
          edges { node { id status assignee { id } team { id } contact { phoneNumber } } }
          pageInfo { hasNextPage endCursor }
        } }`,
      { after, ...filters },
      token,
    );
    const page = must(res, 'conversations').conversations as {
      edges: Array<{ node: ConversationView }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

/** How many conversations of the list each agent holds, and how many nobody holds. */
export function tally(list: ConversationView[], agentIds: string[]): { perAgent: number[]; unassigned: number } {
  return {
    perAgent: agentIds.map((id) => list.filter((c) => c.assignee?.id === id).length),
    unassigned: list.filter((c) => c.assignee === null).length,
  };
}
