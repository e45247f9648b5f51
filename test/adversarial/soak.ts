/**
 * The soak (not in CI): one server process on Postgres, SOAK_RATE signed webhooks/s (default 300)
 * for SOAK_SECONDS (default 300) while SOAK_SUBSCRIPTIONS (default 500) live subscriptions listen.
 * Reports the server's RSS slope (MiB/min over the second half), and loss: every webhook answered
 * 200 must be stored exactly once and delivered to the watching subscription.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run soak
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { startChildServer, sharedEnv } from '../helpers/child-server.js';
import { fakeSid, inboundSmsParams, startFakeTwilio } from '../helpers/fake-twilio.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { randomUsNumber } from '../helpers/inbox.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RATE = Number(process.env.SOAK_RATE ?? 300);
const SUBSCRIPTIONS = Number(process.env.SOAK_SUBSCRIPTIONS ?? 500);
const PER_SOCKET = 50;
const MAX_IN_FLIGHT = Number(process.env.SOAK_MAX_IN_FLIGHT ?? 512);

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main() {
  if (!process.env.TEST_DATABASE_URL) throw new Error('set TEST_DATABASE_URL (a Postgres the soak may create a database on)');
  const db = await createTestDatabase();
  const fake = await startFakeTwilio();
  const server = await startChildServer(
    { ...sharedEnv(db.env.DATABASE_URL!), LOG_LEVEL: 'warn', WS_MAX_SOCKETS_PER_USER: '100', WS_MAX_SUBSCRIPTIONS_PER_SOCKET: String(PER_SOCKET) },
    // Start-up (tsx, migrations) is slow on a loaded machine.
    180_000,
  );
  const sql = postgres(db.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const signUp = await server.gql('mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
      i: { tenantName: 'Soak', name: 'S', email: `soak-${Date.now()}@example.com`, password: 'soak password 1' },
    });
    const token = signUp.data!.signUp.token as string;
    const creds = fake.addAccount();
    const account = (await server.gql('mutation($i: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $i) { id inboundWebhookUrl } }', {
      i: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url },
    }, token)).data!.connectTwilioAccount as { id: string; inboundWebhookUrl: string };
    const e164 = randomUsNumber();
    fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
    await server.gql('mutation($i: AddPhoneNumberInput!) { addPhoneNumber(input: $i) { id } }', { i: { twilioAccountId: account.id, phoneNumber: e164 } }, token);

    let delivered = 0;
    for (let s = 0; s < Math.ceil(SUBSCRIPTIONS / PER_SOCKET); s++) {
      const client = server.ws(token);
      for (let i = 0; i < Math.min(PER_SOCKET, SUBSCRIPTIONS - s * PER_SOCKET); i++) {
        const watching = s === 0 && i === 0;
        client.subscribe({ query: 'subscription { messageAdded { id body } }' }, { next: () => { if (watching) delivered++; }, error: () => {}, complete: () => {} });
      }
    }
    await new Promise((r) => setTimeout(r, 2000));

    const samples: Array<[number, number]> = [];
    const started = Date.now();
    let sent = 0;
    let ok = 0;
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    const sampler = setInterval(() => {
      try {
        samples.push([(Date.now() - started) / 60_000, rssMiB(server.pid)]);
      } catch {
        // A missed sample (e.g. no descriptor free at that instant) only thins the series.
      }
    }, 5000);
    // Requests the server has not answered yet are bounded: past it the soak stops sending until
    // answers come back (reported as `behind`), rather than opening sockets until the client runs
    // out of file descriptors on a machine too slow for RATE.
    let behind = 0;
    while (Date.now() - started < SECONDS * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE);
      if (inFlight.size >= MAX_IN_FLIGHT && sent < due) behind = due - sent;
      while (sent < due && inFlight.size < MAX_IN_FLIGHT) {
        sent++;
        const params = inboundSmsParams({ accountSid: creds.sid, from: randomUsNumber(), to: e164, body: `soak ${sent}`, messageSid: fakeSid('SM') });
        const p = server.postSigned(account.inboundWebhookUrl, creds.authToken, params).then(
          async (res) => { await res.text(); if (res.status === 200) ok++; else failed++; },
          () => { failed++; },
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inFlight);
    clearInterval(sampler);
    // Live delivery may lag under load: wait (up to 60 s) for the watcher to catch up.
    for (let waited = 0; delivered < ok && waited < 60_000; waited += 500) await new Promise((r) => setTimeout(r, 500));
    const [{ n }] = await sql`select count(*)::int as n from messages where direction = 'INBOUND'`;
    const [{ d }] = await sql`select count(*)::int as d from (select twilio_account_id, twilio_sid from messages group by 1, 2 having count(*) > 1) x`;
    const secondHalf = samples.filter((p) => p[0] >= SECONDS / 120);
    // The server's own live counters: where the events that did not reach the watcher went.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const report = {
      seconds: SECONDS, rate: RATE, subscriptions: SUBSCRIPTIONS, sent, achievedRatePerSecond: Number((sent / SECONDS).toFixed(1)),
      behindAtEnd: behind, answered200: ok, refused: failed,
      stored: n, duplicated: d, lost: ok - n, deliveredToWatcher: delivered,
      rssStartMiB: samples[0]?.[1], rssEndMiB: samples.at(-1)?.[1], rssSlopeMiBPerMin: Number(slope(secondHalf).toFixed(2)),
      rssSamplesMiB: samples.map((p) => Math.round(p[1])),
      liveExecutions: counter('live_executions_total'), liveDeliveries: counter('live_deliveries_total'), liveDropped: counter('live_dropped_total'), liveOverflowed: counter('live_overflowed_total'),
      heapUsedMiB: Math.round(counter('nodejs_heap_size_used_bytes') / 1048576),
    };
    console.log(JSON.stringify(report, null, 2));
    if (report.lost !== 0 || report.duplicated !== 0) process.exitCode = 1;
  } finally {
    await sql.end();
    await server.stop();
    await fake.close();
    await db.drop();
  }
}

await main();
