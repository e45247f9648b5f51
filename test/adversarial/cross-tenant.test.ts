import {
  getNamedType,
  isInputObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { createAgent, signUpTenant } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { collect } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { tenantSnapshot } from './snapshot.js';
import { crossTenantMatrix, exemptFromMatrix, type MatrixLine, type Outcome, type VictimIds } from './cross-tenant-matrix.js';

/** Whether a type (through lists, non-nulls and input objects) contains an ID. */
function takesId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (isScalarType(named)) return named.name === 'ID';
  if (isInputObjectType(named)) {
    if (seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((f) => takesId(f.type, seen));
  }
  return false;
}

export function operationsTakingIds(schema: GraphQLSchema): string[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  const names: string[] = [];
  for (const root of roots) {
    if (!root) continue;
    for (const field of Object.values(root.getFields()) as GraphQLField<unknown, unknown>[]) {
      if (field.args.some((arg: GraphQLArgument) => takesId(arg.type))) names.push(field.name);
    }
  }
  return names.sort();
}

let server: TestServer;
let fake: FakeTwilio;
let victim: VictimIds;
let victimAgentToken: string;
let otherTeamAgentToken: string;
let attackerToken: string;

beforeAll(async () => {
  // Loopback webhook endpoints are allowed so the victim can register one (nothing is delivered to it).
  [server, fake] = await Promise.all([startTestServer({ WEBHOOK_ENDPOINTS_ALLOW_PRIVATE: 'true' }), startFakeTwilio()]);
  const inbox = await setUpInbox(server, fake, { tenantName: 'Victim' });
  const agent = await createAgent(server, inbox.tenant.token);
  const conversationId = await customerTexts(server, inbox, randomUsNumber(), 'private words');
  await server.gql('mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }', { c: conversationId, u: agent.id }, inbox.tenant.token);
  const convo = await server.gql('query($id: ID!) { conversation(id: $id) { contact { id } messages(first: 1) { edges { node { id } } } } }', { id: conversationId }, inbox.tenant.token);
  const team = await server.gql('mutation($u: ID!) { createTeam(input: { name: "Victim team", memberIds: [$u] }) { id } }', { u: agent.id }, inbox.tenant.token);
  // The victim conversation belongs to the victim's team (and its agent): outside the view of an
  // agent of another team of the same tenant.
  const moved = await server.gql(
    'mutation($c: ID!, $t: ID, $u: ID) { transferConversation(conversationId: $c, teamId: $t, assigneeId: $u) { team { id } assignee { id } } }',
    { c: conversationId, t: team.data!.createTeam.id, u: agent.id },
    inbox.tenant.token,
  );
  expect(moved.data!.transferConversation).toEqual({ team: { id: team.data!.createTeam.id }, assignee: { id: agent.id } });
  const outsider = await createAgent(server, inbox.tenant.token);
  await server.gql('mutation($u: ID!) { createTeam(input: { name: "Other team", memberIds: [$u] }) { id } }', { u: outsider.id }, inbox.tenant.token);
  otherTeamAgentToken = outsider.token;
  const quickReply = await server.gql('mutation { createQuickReply(input: { title: "Hello", body: "Hi {{contact.name}}" }) { id } }', {}, inbox.tenant.token);
  const hours = await server.gql(
    'mutation { createOperatingHours(input: { name: "Victim hours", timeZone: "Europe/Berlin", weekly: [{ day: MONDAY, opens: "09:00", closes: "17:00" }] }) { id } }',
    {},
    inbox.tenant.token,
  );
  const campaign = await server.gql(
    'mutation($p: ID!) { createCampaign(input: { name: "Victim campaign", phoneNumberId: $p, body: "Hello", recipients: [{ phoneNumber: "+14155550115" }] }) { id } }',
    { p: inbox.number.id },
    inbox.tenant.token,
  );
  const apiKey = await server.gql('mutation { createApiKey(input: { name: "Victim key", role: AGENT }) { apiKey { id } } }', {}, inbox.tenant.token);
  const endpoint = await server.gql(
    'mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/victim-hook", events: [MESSAGE_RECEIVED] }) { endpoint { id } } }',
    {},
    inbox.tenant.token,
  );
  victim = {
    apiKeyId: apiKey.data!.createApiKey.apiKey.id,
    webhookEndpointId: endpoint.data!.createWebhookEndpoint.endpoint.id,
    campaignId: campaign.data!.createCampaign.id,
    operatingHoursId: hours.data!.createOperatingHours.id,
    teamId: team.data!.createTeam.id,
    quickReplyId: quickReply.data!.createQuickReply.id,
    tenantId: inbox.tenant.tenantId,
    adminId: inbox.tenant.userId,
    agentId: agent.id,
    conversationId,
    messageId: convo.data!.conversation.messages.edges[0].node.id,
    contactId: convo.data!.conversation.contact.id,
    phoneNumberId: inbox.number.id,
    twilioAccountId: inbox.account.id,
  };
  victimAgentToken = agent.token;
  const attacker = await signUpTenant(server, 'Attacker');
  // The attacker has its own account and number, so "not found" is not just "has nothing".
  await setUpInbox(server, fake, { tenantName: 'Attacker 2' });
  attackerToken = attacker.token;
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

function snapshot(tenantId: string): Promise<Record<string, string>> {
  return tenantSnapshot(server, tenantId);
}

async function outcomeOf(line: MatrixLine, name: string, token: string): Promise<Outcome | string> {
  if (line.kind === 'subscription') {
    const sub = collect(server.ws(token, { onNonLazyError: () => {} }), line.document, line.variables(victim));
    await waitFor(() => sub.errors.length > 0 || sub.events.length > 0, { timeoutMs: 5000, what: `${name} to answer` });
    sub.unsubscribe();
    const text = JSON.stringify(sub.errors);
    return (['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED'] as const).find((c) => text.includes(c)) ?? `events: ${JSON.stringify(sub.events)}`;
  }
  const res = await server.gql(line.document, line.variables(victim), token);
  const code = res.errors?.[0]?.extensions?.code;
  if (code) return code;
  const value = res.data?.[name];
  if (value === null) return 'null';
  const list = Array.isArray(value) ? value : (value as { edges?: unknown[] } | undefined)?.edges;
  if (Array.isArray(list) && list.length === 0) return 'empty';
  return `answered: ${JSON.stringify(res.data).slice(0, 200)}`;
}

describe('cross-tenant matrix', () => {
  it('covers every operation that takes an id (add a line to cross-tenant-matrix.ts for a new one)', async () => {
    const schema = await buildAppSchema();
    const missing = operationsTakingIds(schema).filter((name) => !(name in crossTenantMatrix) && !(name in exemptFromMatrix));
    expect(missing, `operations taking an id with no line in test/adversarial/cross-tenant-matrix.ts`).toEqual([]);
    const stale = Object.keys(crossTenantMatrix).filter((name) => !operationsTakingIds(schema).includes(name));
    expect(stale, 'matrix lines for operations that no longer exist (or take no id)').toEqual([]);
  });

  for (const [name, line] of Object.entries(crossTenantMatrix)) {
    it(`${name}: another tenant's ADMIN with the victim's ids gets ${line.crossTenant.join(' | ')}, nothing changes`, async () => {
      const before = await snapshot(victim.tenantId);
      expect(line.crossTenant).toContain(await outcomeOf(line, name, attackerToken));
      expect(await snapshot(victim.tenantId)).toEqual(before);
    });
    if (line.otherTeam) {
      it(`${name}: an AGENT of another team of the victim's tenant gets ${line.otherTeam.join(' | ')}, nothing changes`, async () => {
        // This caller is a member of the victim's tenant: connecting a WebSocket records its own
        // presence (agent_presence), which is its row to change; everything else must stay.
        const withoutOwnPresence = async () => {
          const { agent_presence: _ownPresence, ...rest } = await snapshot(victim.tenantId);
          return rest;
        };
        const before = await withoutOwnPresence();
        expect(line.otherTeam).toContain(await outcomeOf(line, name, otherTeamAgentToken));
        expect(await withoutOwnPresence()).toEqual(before);
      });
    }
    if (line.agent) {
      it(`${name}: the victim tenant's AGENT gets ${line.agent.join(' | ')}, nothing changes`, async () => {
        const before = await snapshot(victim.tenantId);
        expect(line.agent).toContain(await outcomeOf(line, name, victimAgentToken));
        expect(await snapshot(victim.tenantId)).toEqual(before);
      });
    }
  }
});
