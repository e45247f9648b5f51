/**
 * 9. Campaigns (issue 13): one tenant's campaign of 5,000 recipients (quick: 500) through the
 * campaign runner and the outbox dispatcher to the fake Twilio, pacing off (the bench server runs
 * with PACING_ENABLED=false): recipients per second from `startCampaign` to COMPLETED, and every
 * recipient must get exactly one POST. Run twice: without subscribers, then with 10 clients
 * subscribed to `campaignUpdated(campaignId)`, for the cost of progress events (events received,
 * and the throughput difference).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { verdict, type Ctx } from '../lib/context.js';
import { gql, gqlOk } from '../lib/gql.js';
import { seedTenant, type Tenant } from '../lib/seed.js';
import { fmt, sleep } from '../lib/stats.js';

const S = '9 campaigns';
const CHUNK = 10_000;
const SUBSCRIBERS = 10;

interface Run {
  recipients: number;
  ms: number;
  posts: number;
  duplicates: number;
  missing: number;
  events: number[];
  status: string;
}

/** A valid US number per index, distinct per run (exchanges 200–299, then the line). */
function recipientNumber(run: number, i: number): string {
  return `+1646${200 + run * 10 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, '0')}`;
}

async function runCampaign(ctx: Ctx, tenant: Tenant, run: number, recipients: number, subscribers: number): Promise<Run> {
  const url = ctx.server.graphqlUrl;
  const numbers = Array.from({ length: recipients }, (_, i) => recipientNumber(run, i));
  const first = numbers.slice(0, CHUNK).map((phoneNumber) => ({ phoneNumber }));
  const created = await gqlOk<{ createCampaign: { id: string } }>(
    url,
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
    { input: { name: `Bench campaign ${run}`, phoneNumberId: tenant.numberId, body: 'Hi {{contact.name}}, our spring sale starts today!', recipients: first } },
    tenant.adminToken,
  );
  const id = created.createCampaign.id;
  for (let k = CHUNK; k < numbers.length; k += CHUNK) {
    await gqlOk(
      url,
      `mutation($id: ID!, $r: [CampaignRecipientInput!]!) { addCampaignRecipients(id: $id, recipients: $r) { id } }`,
      { id, r: numbers.slice(k, k + CHUNK).map((phoneNumber) => ({ phoneNumber })) },
      tenant.adminToken,
    );
  }

  const clients: Client[] = [];
  const events = Array.from({ length: subscribers }, () => 0);
  const ready: Array<Promise<void>> = [];
  for (let s = 0; s < subscribers; s++) {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${tenant.adminToken}` },
    });
    clients.push(client);
    ready.push(
      new Promise<void>((resolve) => {
        client.on('connected', () => resolve());
        client.subscribe(
          { query: `subscription($id: ID) { campaignUpdated(campaignId: $id) { id status stats { queued sent } } }`, variables: { id } },
          { next: () => void events[s]!++, error: () => {}, complete: () => {} },
        );
      }),
    );
  }
  await Promise.all(ready);
  // Give the server a moment to register the subscriptions (they start after connection).
  if (subscribers > 0) await sleep(500);

  const from = ctx.fake.messageRequests.length;
  const started = performance.now();
  await gqlOk(url, `mutation($id: ID!) { startCampaign(id: $id) { id } }`, { id }, tenant.adminToken);
  let status = 'RUNNING';
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const res = await gql<{ campaign: { status: string } }>(url, `query($id: ID!) { campaign(id: $id) { status } }`, { id }, tenant.adminToken);
    status = res.data?.campaign.status ?? status;
    if (status === 'COMPLETED' || status === 'CANCELLED') break;
    await sleep(50);
  }
  const ms = performance.now() - started;
  await Promise.allSettled(clients.map((c) => c.dispose()));

  const wanted = new Set(numbers);
  const perNumber = new Map<string, number>();
  let posts = 0;
  for (const r of ctx.fake.messageRequests.slice(from)) {
    const to = String(r.params['To']);
    if (!wanted.has(to)) continue;
    posts++;
    perNumber.set(to, (perNumber.get(to) ?? 0) + 1);
  }
  const duplicates = [...perNumber.values()].filter((n) => n > 1).length;
  return { recipients, ms, posts, duplicates, missing: numbers.length - perNumber.size, events, status };
}

export async function campaignsScenario(ctx: Ctx): Promise<void> {
  const { report, quick } = ctx;
  if (!ctx.features.mutations.has('createCampaign')) {
    report.add({ scenario: S, metric: 'createCampaign', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  const recipients = quick ? 500 : 5_000;
  const tenant = await seedTenant(ctx.server.graphqlUrl, ctx.fake, 40_000, ctx.runId, 'Campaigns');

  for (const [run, subscribers] of [
    [0, 0],
    [1, SUBSCRIBERS],
  ] as const) {
    ctx.log(`campaigns: ${recipients} recipients, ${subscribers} subscribers`);
    // One profiled window per run (--profile, --pg-statements): campaign set-up included, it is short.
    const r = await ctx.profiler.around(`campaigns-${run}`, () => runCampaign(ctx, tenant, run, recipients, subscribers));
    const exact = r.status === 'COMPLETED' && r.posts === recipients && r.duplicates === 0 && r.missing === 0;
    report.add({
      scenario: S,
      metric: `${recipients.toLocaleString('en-US')} recipients${subscribers ? `, ${subscribers} progress subscribers` : ''}: exactly one POST each`,
      value: exact ? 'yes' : `no (${r.status}, ${r.posts} POSTs, ${r.duplicates} duplicated, ${r.missing} missing)`,
      verdict: exact ? 'OK' : 'FAIL',
    });
    const rate = recipients / (r.ms / 1000);
    report.add({
      scenario: S,
      metric: `campaign dispatch, pacing off${subscribers ? `, ${subscribers} subscribers` : ''} (recipients/s, start → COMPLETED)`,
      value: fmt(rate, 0),
      verdict: verdict(rate > 0),
    });
    if (subscribers > 0) {
      const total = r.events.reduce((a, b) => a + b, 0);
      report.detail(
        S,
        `progress events: ${fmt(total / subscribers, 1)} per subscriber over ${fmt(r.ms / 1000, 1)} s (${fmt(total / subscribers / (r.ms / 1000), 1)}/s each; at most a few a second by design, not one per message)`,
      );
    }
    report.detail(S, `run ${run}: ${recipients} recipients in ${fmt(r.ms / 1000, 2)} s, ${r.posts} POSTs to the fake Twilio`);
  }
}
