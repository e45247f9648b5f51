/**
 * Seeding through the public API, as a real customer would: signUp (admin), connectTwilioAccount
 * against the fake Twilio, addPhoneNumber, createAgent + logIn (the agent's token drives the
 * dashboards and replies).
 */
import { randomBytes } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { FakeTwilio } from '../../src/sandbox/twilio-simulator.js';
import { gqlOk } from './gql.js';

export interface Tenant {
  index: number;
  tenantId: string;
  adminToken: string;
  agentToken: string;
  agentId: string;
  accountId: string;
  accountSid: string;
  authToken: string;
  /** The URL Twilio posts inbound messages to (and signs). */
  webhookUrl: string;
  numberId: string;
  e164: string;
  /**
   * Tokens of more agents of the tenant (logged in), created on demand by ensureAgentTokens when
   * a scenario holds more sockets per tenant than one user may open (WS_MAX_SOCKETS_PER_USER).
   */
  moreAgentTokens?: string[];
}

const PASSWORD = 'bench password 1';

let numberCursor = 0;
/** Distinct valid US numbers (+1 415 2xx xxxx), checked with the same library the server uses. */
export function nextOurNumber(): string {
  for (;;) {
    const candidate = `+1415${String(2_000_000 + numberCursor++).padStart(7, '0')}`;
    if (parsePhoneNumberFromString(candidate)?.isValid()) return candidate;
  }
}

/** A customer's number: pool index per tenant, so senders repeat (existing contacts) as in real traffic. */
export function senderNumber(index: number): string {
  return `+1646${String(2_000_000 + index).padStart(7, '0')}`;
}

export async function seedTenant(graphqlUrl: string, fake: FakeTwilio, index: number, runId: string, label = 'Bench'): Promise<Tenant> {
  const tag = `${runId}-${index}-${randomBytes(2).toString('hex')}`;
  const signUp = await gqlOk<{ signUp: { token: string; user: { id: string; tenant: { id: string; slug: string } } } }>(
    graphqlUrl,
    `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id tenant { id slug } } } }`,
    { input: { tenantName: `${label} Dental ${index}`, name: 'Ada Admin', email: `admin-${tag}@bench.example.com`, password: PASSWORD } },
  );
  const adminToken = signUp.signUp.token;
  const creds = fake.addAccount({ friendlyName: `${label} ${index}` });
  const connect = await gqlOk<{ connectTwilioAccount: { id: string; accountSid: string; inboundWebhookUrl: string } }>(
    graphqlUrl,
    `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { id accountSid inboundWebhookUrl } }`,
    { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
    adminToken,
  );
  const e164 = nextOurNumber();
  fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
  const number = await gqlOk<{ addPhoneNumber: { id: string; e164: string } }>(
    graphqlUrl,
    `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`,
    { input: { twilioAccountId: connect.connectTwilioAccount.id, phoneNumber: e164 } },
    adminToken,
  );
  const agentEmail = `agent-${tag}@bench.example.com`;
  const agent = await gqlOk<{ createAgent: { id: string } }>(
    graphqlUrl,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
    { input: { email: agentEmail, name: `Andy Agent ${index}`, password: PASSWORD, role: 'AGENT' } },
    adminToken,
  );
  const login = await gqlOk<{ logIn: { token: string } }>(
    graphqlUrl,
    `mutation($input: LogInInput!) { logIn(input: $input) { token } }`,
    // Agents log in with their workspace's slug.
    { input: { email: agentEmail, password: PASSWORD, tenantSlug: signUp.signUp.user.tenant.slug } },
  );
  return {
    index,
    tenantId: signUp.signUp.user.tenant.id,
    adminToken,
    agentToken: login.logIn.token,
    agentId: agent.createAgent.id,
    accountId: connect.connectTwilioAccount.id,
    accountSid: creds.sid,
    authToken: creds.authToken,
    webhookUrl: connect.connectTwilioAccount.inboundWebhookUrl,
    numberId: number.addPhoneNumber.id,
    e164: number.addPhoneNumber.e164,
  };
}

/** Extra agents in a tenant (createAgent only: no token needed), for assignees. */
export async function createAgents(graphqlUrl: string, adminToken: string, count: number, runId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await gqlOk<{ createAgent: { id: string } }>(
      graphqlUrl,
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
      { input: { email: `agent-${runId}-x${i}-${randomBytes(2).toString('hex')}@bench.example.com`, name: `Agent ${i}`, password: PASSWORD, role: 'AGENT' } },
      adminToken,
    );
    ids.push(r.createAgent.id);
  }
  return ids;
}

/** Seeds `count` tenants, a few at a time (scrypt hashing dominates). Index i gets index offset+i. */
export async function seedTenants(
  graphqlUrl: string,
  fake: FakeTwilio,
  count: number,
  runId: string,
  opts: { concurrency?: number; offset?: number; label?: string } = {},
): Promise<Tenant[]> {
  const out: Tenant[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await seedTenant(graphqlUrl, fake, (opts.offset ?? 0) + i, runId, opts.label);
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, opts.concurrency ?? 6) }, worker));
  return out;
}

/**
 * Gives every tenant at least `count` agent tokens (agentToken plus moreAgentTokens), creating and
 * logging in the missing agents through the API, a few at a time (two scrypt hashes each).
 */
export async function ensureAgentTokens(graphqlUrl: string, tenants: readonly Tenant[], count: number, runId: string, concurrency = 6): Promise<void> {
  const jobs: Tenant[] = [];
  for (const t of tenants) for (let k = 1 + (t.moreAgentTokens?.length ?? 0); k < count; k++) jobs.push(t);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const t = jobs[next++]!;
      const email = `agent-${runId}-t${t.index}-m${randomBytes(4).toString('hex')}@bench.example.com`;
      await gqlOk(
        graphqlUrl,
        `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
        { input: { email, name: `More Agent ${t.index}`, password: PASSWORD, role: 'AGENT' } },
        t.adminToken,
      );
      const me = await gqlOk<{ me: { tenant: { slug: string } } }>(graphqlUrl, '{ me { tenant { slug } } }', {}, t.adminToken);
      const login = await gqlOk<{ logIn: { token: string } }>(
        graphqlUrl,
        `mutation($input: LogInInput!) { logIn(input: $input) { token } }`,
        { input: { email, password: PASSWORD, tenantSlug: me.me.tenant.slug } },
      );
      (t.moreAgentTokens ??= []).push(login.logIn.token);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs.length, concurrency) }, worker));
}
