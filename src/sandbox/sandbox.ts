/**
 * Sandbox mode (`npm run sandbox`, `SANDBOX=true npm start`): the server together with the Twilio
 * simulator on loopback, a demo tenant seeded on first start, and REST routes for the customer
 * phone page and scripts. Loaded only when SANDBOX is set, so a normal start pays nothing for it.
 *
 * The simulator keeps its state in memory; the database is the record. Every start registers the
 * sandbox accounts (and their numbers) with the new simulator again and points their apiBaseUrl at
 * its new port, before the dispatcher sends anything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { StartOptions } from '../app.js';
import type { Config } from '../config.js';
import { openAuthToken, webhookUrls } from '../modules/twilio-accounts/credentials.js';
import { listSandboxAccounts, markSandboxAccount, setSandboxApiBaseUrl } from '../modules/twilio-accounts/twilio-accounts.repository.js';
import type { AppDeps } from '../shared/deps.js';
import { TenantContext } from '../tenant-context.js';
import { REALISTIC_PLAYBACK, startFakeTwilio, type FakeTwilio } from './twilio-simulator.js';

export interface SandboxUser {
  role: 'ADMIN' | 'AGENT';
  name: string;
  email: string;
  password: string;
}

/** What the console's sign-in page and the customer phone page show in sandbox mode. */
export interface SandboxInfo {
  tenantName: string;
  tenantSlug: string | null;
  /** Empty when the credentials file is gone (they were printed on the first start). */
  users: SandboxUser[];
  demoNumbers: { e164: string; description: string | null }[];
  /** Customer phones used by the seed, for the phone page's picker. */
  customers: string[];
}

export const DEMO_TENANT_NAME = 'Demo Dental';
const DEMO_NUMBERS = [
  { e164: '+15005550100', description: 'Front desk' },
  { e164: '+15005550101', description: 'Billing' },
];
const DEMO_CUSTOMERS = ['+14155550111', '+14155550122', '+14155550133'];
const CREDENTIALS_FILE = 'sandbox-credentials.json';
const MAX_INBOUND_MEDIA_BYTES = 5 * 1024 * 1024;
const E164 = /^\+[1-9]\d{6,14}$/;

export interface Sandbox {
  simulator: FakeTwilio;
  /** Hooks for startApp: the sandbox routes, and re-registration before the dispatcher starts. */
  startOptions: Pick<StartOptions, 'registerRoutes' | 'onListening' | 'onClosed'>;
  /** Seeds the demo tenant through the public API on a first start; returns its users then, else null. */
  seedIfEmpty(appUrl: string): Promise<SandboxUser[] | null>;
  info(): Promise<SandboxInfo>;
}

export async function startSandbox(config: Config): Promise<Sandbox> {
  // Belt and braces: loadConfig already refuses this combination.
  if (config.env === 'production') throw new Error('The sandbox is refused when NODE_ENV=production');
  const simulator = await startFakeTwilio({
    deliveryPlayback: { ...REALISTIC_PLAYBACK, failureShare: config.sandboxFailurePercent / 100 },
  });
  let deps: AppDeps | null = null;
  const credentialsPath = resolve(join(config.dataDir === 'memory://' ? '.' : config.dataDir, CREDENTIALS_FILE));
  // With DATA_DIR=memory:// (tests) the credentials live as long as the process.
  let memoryCredentials: { tenantSlug: string; users: SandboxUser[] } | null = null;

  const readCredentials = (): { tenantSlug: string; users: SandboxUser[] } | null => {
    if (config.dataDir === 'memory://' || !existsSync(credentialsPath)) return memoryCredentials;
    try {
      return JSON.parse(readFileSync(credentialsPath, 'utf8')) as { tenantSlug: string; users: SandboxUser[] };
    } catch {
      return null;
    }
  };

  /** Tells the (new, empty) simulator about every sandbox account and number in the database. */
  async function registerAccounts(d: AppDeps): Promise<void> {
    await setSandboxApiBaseUrl(d.db, simulator.url);
    for (const account of await listSandboxAccounts(d.db)) {
      simulator.addAccount({
        sid: account.accountSid,
        authToken: openAuthToken(d.secretBox, account),
        friendlyName: account.friendlyName,
      });
      const inbound = webhookUrls(d.config.publicUrl, account.webhookKey).inbound;
      for (const number of await new TenantContext(d, account.tenantId, null).phoneNumbers.listActiveByAccounts([account.id])) {
        simulator.addIncomingNumber(account.accountSid, { phoneNumber: number.e164, smsUrl: inbound });
      }
    }
  }

  async function info(): Promise<SandboxInfo> {
    const creds = readCredentials();
    const numbers: SandboxInfo['demoNumbers'] = [];
    if (deps) {
      for (const account of await listSandboxAccounts(deps.db)) {
        for (const n of await new TenantContext(deps, account.tenantId, null).phoneNumbers.listActiveByAccounts([account.id])) {
          numbers.push({ e164: n.e164, description: n.description });
        }
      }
    }
    return {
      tenantName: DEMO_TENANT_NAME,
      tenantSlug: creds?.tenantSlug ?? null,
      users: creds?.users ?? [],
      demoNumbers: numbers,
      customers: DEMO_CUSTOMERS,
    };
  }

  async function seedIfEmpty(appUrl: string): Promise<SandboxUser[] | null> {
    if (!deps) throw new Error('seedIfEmpty before the server started');
    if ((await listSandboxAccounts(deps.db)).length > 0) return null;
    // Kept as soon as the users exist: a seed that fails later must not lose the passwords.
    const keep = (record: { tenantSlug: string; users: SandboxUser[] }) => {
      if (config.dataDir === 'memory://') memoryCredentials = record;
      else {
        mkdirSync(resolve(config.dataDir), { recursive: true });
        writeFileSync(credentialsPath, JSON.stringify(record, null, 2), { mode: 0o600 });
      }
    };
    return seedDemoTenant(appUrl, deps, simulator, keep);
  }

  return {
    simulator,
    info,
    seedIfEmpty,
    startOptions: {
      registerRoutes: (app) => registerSandboxRoutes(app, simulator, info),
      onListening: async (d) => {
        deps = d;
        await registerAccounts(d);
      },
      onClosed: () => simulator.close(),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Seed: through the public GraphQL API, as a script of a GraphQL client would do it.

async function seedDemoTenant(
  appUrl: string,
  deps: AppDeps,
  simulator: FakeTwilio,
  keepCredentials: (record: { tenantSlug: string; users: SandboxUser[] }) => void,
): Promise<SandboxUser[]> {
  const password = () => `demo-${randomBytes(6).toString('base64url')}`;
  const users: SandboxUser[] = [
    { role: 'ADMIN', name: 'Ada Admin', email: 'admin@demo.test', password: password() },
    { role: 'AGENT', name: 'Bo Agent', email: 'bo@demo.test', password: password() },
    { role: 'AGENT', name: 'Cy Agent', email: 'cy@demo.test', password: password() },
  ];
  const [admin, bo, cy] = users as [SandboxUser, SandboxUser, SandboxUser];
  const gql = graphqlCaller(appUrl);

  const signUp = await gql<{ signUp: { token: string; user: { id: string; tenant: { slug: string } } } }>(
    'mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id tenant { slug } } } }',
    { input: { tenantName: DEMO_TENANT_NAME, name: admin.name, email: admin.email, password: admin.password } },
  );
  const adminToken = signUp.signUp.token;
  const agentIds: string[] = [];
  for (const agent of [bo, cy]) {
    const created = await gql<{ createAgent: { id: string } }>(
      'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { id } }',
      { input: { email: agent.email, name: agent.name, password: agent.password, role: 'AGENT' } },
      adminToken,
    );
    agentIds.push(created.createAgent.id);
  }
  keepCredentials({ tenantSlug: signUp.signUp.user.tenant.slug, users });

  // The account exists at the simulator first, as it would at Twilio, then is connected normally.
  const account = simulator.addAccount({ friendlyName: 'Demo Dental (simulated Twilio)' });
  for (const n of DEMO_NUMBERS) simulator.addIncomingNumber(account.sid, { phoneNumber: n.e164 });
  const connected = await gql<{ connectTwilioAccount: { id: string } }>(
    'mutation ($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { id } }',
    { input: { accountSid: account.sid, authToken: account.authToken, apiBaseUrl: simulator.url, friendlyName: 'Demo Dental (sandbox)' } },
    adminToken,
  );
  await markSandboxAccount(deps.db, connected.connectTwilioAccount.id);

  // Two teams: the front desk (both agents, a queue they take from) and billing (Cy, round robin).
  const createTeam = async (name: string, strategy: string, memberIds: string[]) =>
    (
      await gql<{ createTeam: { id: string } }>(
        'mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }',
        { input: { name, strategy, memberIds, agentCapacity: 10 } },
        adminToken,
      )
    ).createTeam.id;
  const teamsCreated = Promise.all([
    createTeam('Front desk', 'MANUAL', [agentIds[0]!, agentIds[1]!]),
    createTeam('Billing', 'ROUND_ROBIN', [agentIds[1]!]),
  ]);

  // Office hours for the billing line (the front desk is always open: texts get an answer any time).
  const hoursCreated = gql<{ createOperatingHours: { id: string } }>(
    'mutation ($input: OperatingHoursInput!) { createOperatingHours(input: $input) { id } }',
    {
      input: {
        name: 'Office hours',
        timeZone: 'America/Los_Angeles',
        weekly: [
          ...['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'].map((day) => ({ day, opens: '08:00', closes: '18:00' })),
          { day: 'SATURDAY', opens: '09:00', closes: '13:00' },
        ],
        closedDates: [`${new Date().getUTCFullYear()}-12-25`, `${new Date().getUTCFullYear() + 1}-01-01`],
      },
    },
    adminToken,
  );

  const [[frontTeam, billingTeam], hours] = await Promise.all([teamsCreated, hoursCreated]);
  const numberIds: string[] = [];
  for (const [i, n] of DEMO_NUMBERS.entries()) {
    const added = await gql<{ addPhoneNumber: { id: string } }>(
      'mutation ($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id } }',
      {
        input: {
          twilioAccountId: connected.connectTwilioAccount.id,
          phoneNumber: n.e164,
          description: n.description,
          configureTwilioWebhook: true,
          teamId: i === 0 ? frontTeam : billingTeam,
        },
      },
      adminToken,
    );
    numberIds.push(added.addPhoneNumber.id);
  }
  const [frontId, billingId] = numberIds as [string, string];
  await gql(
    'mutation ($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id } }',
    { id: billingId, input: { operatingHoursId: hours.createOperatingHours.id } },
    adminToken,
  );

  // Automated messages: on for billing (closed hours, queue); the front desk's are written but off,
  // so the demo conversations (and the tests' texts) show only what agents write.
  const automated = (phoneNumberId: string, trigger: string, body: string, enabled: boolean) =>
    gql(
      'mutation ($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id } }',
      { input: { phoneNumberId, trigger, body, enabled } },
      adminToken,
    );
  await Promise.all([
    automated(billingId, 'OUT_OF_HOURS', 'Thanks for texting {{tenant.name}} billing. We are closed now and will answer when we open (Mon–Fri 8–6, Sat 9–1).', true),
    automated(billingId, 'ALL_AGENTS_BUSY', 'Thanks! Everyone in billing is busy; someone will text you back shortly.', true),
    automated(frontId, 'GREETING', 'Hi {{contact.name}}! Thanks for texting {{tenant.name}}: a team member will answer shortly.', false),
    automated(frontId, 'RESOLVED', 'Glad we could help! Text us any time.', false),
  ]);

  // Quick replies, with the placeholders renderQuickReply fills in.
  await Promise.all(
    (
      [
        ['Hello', 'Hi {{contact.name}}, this is {{agent.name}} at {{tenant.name}}. How can I help?'],
        ['Booking confirmed', 'You are booked, {{contact.name}}! Reply C to cancel or R to reschedule.'],
        ['Billing follow-up', 'Thanks {{contact.name}}, our billing team is looking into it and will text you within one business day.'],
        ['New patients', 'We welcome new patients! Our first visit includes a cleaning and x-rays. What day suits you?'],
      ] as const
    ).map(([title, body]) =>
      gql('mutation ($input: CreateQuickReplyInput!) { createQuickReply(input: $input) { id } }', { input: { title, body } }, adminToken),
    ),
  );

  // A few conversations with history: customers text in (real signed webhooks), agents answer.
  const [front, billing] = DEMO_NUMBERS as [(typeof DEMO_NUMBERS)[0], (typeof DEMO_NUMBERS)[0]];
  const [c1, c2, c3] = DEMO_CUSTOMERS as [string, string, string];
  await simulator.sendInbound({ from: c1, to: front.e164, body: 'Hi! Can I move my cleaning to Thursday afternoon?' });
  await simulator.sendInbound({ from: c2, to: billing.e164, body: 'Hello, I was charged twice for my last visit.' });
  await simulator.sendInbound({ from: c3, to: front.e164, body: 'Do you take new patients?' });

  const list = await gql<{ conversations: { edges: { node: { id: string; contact: { id: string; phoneNumber: string } } }[] } }>(
    '{ conversations(first: 10) { edges { node { id contact { id phoneNumber } } } } }',
    {},
    adminToken,
  );
  const byCustomer = new Map(list.conversations.edges.map((e) => [e.node.contact.phoneNumber, e.node.id]));
  const contactOf = new Map(list.conversations.edges.map((e) => [e.node.contact.phoneNumber, e.node.contact.id]));
  const detail = async (customer: string, name: string, labels: string[], note: string) => {
    const conversationId = byCustomer.get(customer);
    const contactId = contactOf.get(customer);
    if (!conversationId || !contactId) return;
    await gql('mutation ($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id } }', { id: contactId, input: { name } }, adminToken);
    await gql('mutation ($c: ID!, $l: [String!]!) { setConversationLabels(conversationId: $c, labels: $l) { id } }', { c: conversationId, l: labels }, adminToken);
    await gql('mutation ($c: ID!, $b: String!) { addNote(conversationId: $c, body: $b) { id } }', { c: conversationId, b: note }, adminToken);
  };
  const reply = (conversationId: string | undefined, body: string) =>
    conversationId
      ? gql('mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { conversationId, body } }, adminToken)
      : Promise.resolve();
  const assign = (conversationId: string | undefined, assigneeId: string | undefined) =>
    conversationId && assigneeId
      ? gql('mutation ($c: ID!, $a: ID) { assignConversation(conversationId: $c, assigneeId: $a) { id } }', { c: conversationId, a: assigneeId }, adminToken)
      : Promise.resolve();

  await assign(byCustomer.get(c1), agentIds[0]);
  await reply(byCustomer.get(c1), 'Hi! Thursday 3 pm is free. Shall I book it?');
  await simulator.sendInbound({ from: c1, to: front.e164, body: 'Yes please, thank you!' });
  await assign(byCustomer.get(c2), agentIds[1]);
  await reply(byCustomer.get(c3), 'We do! Reply with a good time for a first visit.');
  const resolved = byCustomer.get(c3);
  if (resolved) {
    await gql('mutation ($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }', { c: resolved }, adminToken);
  }
  await Promise.all([
    detail(c1, 'Maria Lopez', ['booking'], 'Prefers afternoons; moved twice this year.'),
    detail(c2, 'Sam Chen', ['billing', 'urgent'], 'Ledger shows two charges of $80 on the same day: refund one.'),
    detail(c3, 'Jo Park', ['new patient'], 'Asked about new patients; follow up next week.'),
  ]);

  // Campaigns: one sent (its progress plays back through the simulator), one draft to start.
  const recipients = ['+14155550144', '+14155550155', '+14155550166'].map((phoneNumber, i) => ({ phoneNumber, name: ['Ana', 'Ben', 'Cleo'][i] }));
  const created = await gql<{ createCampaign: { id: string } }>(
    'mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }',
    { input: { name: 'Flu shot reminders', phoneNumberId: frontId, body: 'Hi {{contact.name}}, flu shots are in at {{tenant.name}}! Reply to book one.', recipients } },
    adminToken,
  );
  await gql('mutation ($id: ID!) { startCampaign(id: $id) { id } }', { id: created.createCampaign.id }, adminToken);
  await gql(
    'mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }',
    {
      input: {
        name: 'Spring cleaning check-ups',
        phoneNumberId: frontId,
        body: 'Hi {{contact.name}}, it is time for your spring check-up at {{tenant.name}}. Reply with a day that suits you.',
        recipients: [c1, c2, c3].map((phoneNumber) => ({ phoneNumber })),
      },
    },
    adminToken,
  );
  return users;
}

function graphqlCaller(appUrl: string) {
  return async <T = unknown>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> => {
    const res = await fetch(`${appUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const json = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (json.errors?.length || !json.data) {
      throw new Error(`sandbox seed: ${json.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`}`);
    }
    return json.data;
  };
}

// ---------------------------------------------------------------------------------------------
// REST routes (sandbox mode only): the served GraphQL schema stays schema.graphql.

interface InboundBody {
  from?: unknown;
  to?: unknown;
  body?: unknown;
  media?: unknown;
}

function registerSandboxRoutes(app: FastifyInstance, simulator: FakeTwilio, info: () => Promise<SandboxInfo>): void {
  app.get('/sandbox/info', async (_request, reply) => reply.header('cache-control', 'no-store').send(await info()));

  /**
   * A customer texts a demo number: { from, to, body, media?: [{ contentType, dataBase64 }] }.
   * The simulator posts the signed webhook to our server, as Twilio would.
   */
  app.post<{ Body: InboundBody }>('/sandbox/inbound', { bodyLimit: 8 * 1024 * 1024 }, async (request, reply) => {
    const input = request.body ?? {};
    const from = typeof input.from === 'string' ? input.from.replace(/[\s().-]/g, '') : '';
    const to = typeof input.to === 'string' ? input.to.replace(/[\s().-]/g, '') : '';
    const body = typeof input.body === 'string' ? input.body : '';
    if (!E164.test(from)) return reply.code(400).send({ error: 'from must be a phone number in E.164, e.g. +14155550111' });
    if (!E164.test(to)) return reply.code(400).send({ error: 'to must be one of the demo numbers, in E.164' });
    if ([...body].length > 1600) return reply.code(400).send({ error: 'body is limited to 1,600 characters' });
    const rawMedia = Array.isArray(input.media) ? input.media : [];
    if (rawMedia.length > 10) return reply.code(400).send({ error: 'at most 10 media per message' });
    const media: { contentType: string; bytes: Buffer }[] = [];
    let total = 0;
    for (const m of rawMedia as { contentType?: unknown; dataBase64?: unknown }[]) {
      if (typeof m?.contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(m.contentType) || typeof m.dataBase64 !== 'string') {
        return reply.code(400).send({ error: 'each media item needs a contentType (e.g. image/png) and dataBase64' });
      }
      const bytes = Buffer.from(m.dataBase64, 'base64');
      total += bytes.length;
      media.push({ contentType: m.contentType.toLowerCase(), bytes });
    }
    if (total > MAX_INBOUND_MEDIA_BYTES) return reply.code(400).send({ error: 'media is limited to 5 MB per message' });
    if (body.trim() === '' && media.length === 0) return reply.code(400).send({ error: 'send a body, media or both' });
    const known = (await info()).demoNumbers.some((n) => n.e164 === to);
    if (!known) return reply.code(400).send({ error: `${to} is not a demo number of this sandbox` });

    const result = await simulator.sendInbound({ from, to, body, media });
    if (result.webhookStatus >= 300) {
      return reply.code(502).send({ error: `the server answered the webhook with HTTP ${result.webhookStatus}`, ...result });
    }
    return reply.code(201).send(result);
  });

  /** The customer's side of the demo numbers: what they sent and what reached their phone. */
  app.get<{ Querystring: { number?: string } }>('/sandbox/phone', async (request, reply) => {
    const number = (request.query.number ?? '').replace(/[\s().-]/g, '');
    if (!E164.test(number)) return reply.code(400).send({ error: 'number must be a phone number in E.164' });
    const messages = simulator.messages
      .filter((m) => (m.direction === 'inbound' ? m.from === number : m.to === number))
      .slice(-200)
      .map((m) => ({
        sid: m.sid,
        direction: m.direction === 'inbound' ? 'sent' : 'received',
        demoNumber: m.direction === 'inbound' ? m.to : m.from,
        body: m.body,
        // The customer's own images sit behind Twilio's auth; outbound media are public URLs.
        media: m.direction === 'outbound' ? m.media.map((x) => x.url) : [],
        mediaCount: m.media.length,
        status: m.status,
        errorCode: m.errorCode,
        automatic: m.automatic,
        at: m.at.toISOString(),
      }));
    return reply.header('cache-control', 'no-store').send({ number, messages });
  });
}
