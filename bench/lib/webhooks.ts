/**
 * Inbound webhooks prepared ahead of a run: the parameter set Twilio posts (inboundSmsParams from
 * the test helpers), form-encoded, signed with the account's token over the advertised URL, with
 * Twilio's headers. Signing is done here, before the load generator starts, so it costs the run
 * nothing. Each message's expected destination is kept for the database check afterwards.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { fakeSid, inboundSmsParams } from '../../src/sandbox/twilio-simulator.js';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import type { PreparedRequest } from '../workers/load.js';
import { senderNumber, type Tenant } from './seed.js';

export interface ExpectedMessage {
  sid: string;
  tenantId: string;
  accountId: string;
  to: string;
  from: string;
}

const TEXTS = [
  'Hi, can I move my appointment to Tuesday?',
  'Running 10 minutes late, sorry!',
  'Yes',
  'Thanks so much for your help today. The new crown feels great and the numbness is gone.',
  'Is the clinic open on Saturday morning? My daughter needs a check-up before school starts next week.',
  'Can you send me the invoice again? I could not find it in my email 🙏',
  'Ok 👍',
  "What's the address of the downtown office? Is there parking nearby or should I take the bus?",
  'Please call me back when you get a chance, I have a question about my insurance coverage for the cleaning.',
  'Confirmed for 3:30 pm',
];

export interface PrepareOptions {
  phase: string;
  /** Customers per tenant; senders are picked at random among them (repeat contacts). */
  sendersPerTenant: number;
  /** Every message from a new sender (sender index = message index): one conversation per message. */
  distinctSenders?: boolean;
  /** Sender indexes start here (keeps phases apart when distinctSenders). */
  senderOffset?: number;
}

export function prepareWebhooks(tenants: readonly Tenant[], count: number, opts: PrepareOptions): { requests: PreparedRequest[]; expected: ExpectedMessage[] } {
  const requests: PreparedRequest[] = new Array(count);
  const expected: ExpectedMessage[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const t = tenants[k % tenants.length]!;
    const senderIndex = (opts.senderOffset ?? 0) + (opts.distinctSenders ? k : Math.floor(Math.random() * opts.sendersPerTenant));
    const from = senderNumber(senderIndex);
    const sid = fakeSid('SM');
    const body = `bench|${opts.phase}|t${t.index}|s${k}|ts0| ${TEXTS[k % TEXTS.length]}`;
    const params = inboundSmsParams({ accountSid: t.accountSid, from, to: t.e164, body, messageSid: sid });
    requests[k] = {
      path: new URL(t.webhookUrl).pathname,
      body: new URLSearchParams(params).toString(),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': computeTwilioSignature(t.authToken, t.webhookUrl, params),
        'I-Twilio-Idempotency-Token': randomUUID(),
        'User-Agent': 'TwilioProxy/1.1',
        Accept: '*/*',
      },
    };
    expected[k] = { sid, tenantId: t.tenantId, accountId: t.accountId, to: t.e164, from };
  }
  return { requests, expected };
}

export function writeRequests(dir: string, name: string, requests: readonly PreparedRequest[]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(requests));
  return file;
}

export interface IngestCheck {
  expected: number;
  /** Distinct expected MessageSids found in messages. */
  stored: number;
  /** Rows beyond one per MessageSid. */
  duplicates: number;
  /** Stored under another tenant/account, or in a conversation of another number or contact. */
  misrouted: number;
}

/** Checks, in the database, that every expected MessageSid is stored exactly once, where it belongs. */
export async function verifyIngest(sql: postgres.Sql, expected: readonly ExpectedMessage[]): Promise<IngestCheck> {
  const reserved = await sql.reserve();
  try {
    await reserved`create temp table if not exists bench_expected (sid text, tenant_id uuid, account_id uuid, to_e164 text, from_e164 text)`;
    await reserved`truncate bench_expected`;
    const chunk = 20_000;
    for (let i = 0; i < expected.length; i += chunk) {
      const part = expected.slice(i, i + chunk);
      await reserved`
        insert into bench_expected
        select * from unnest(${part.map((e) => e.sid)}::text[], ${part.map((e) => e.tenantId)}::uuid[],
          ${part.map((e) => e.accountId)}::uuid[], ${part.map((e) => e.to)}::text[], ${part.map((e) => e.from)}::text[])`;
    }
    await reserved`analyze bench_expected`;
    const [row] = await reserved<{ stored: number; rows: number; misrouted: number }[]>`
      select
        count(distinct m.twilio_sid)::int as stored,
        count(m.id)::int as rows,
        count(*) filter (where m.tenant_id is distinct from e.tenant_id or m.twilio_account_id is distinct from e.account_id
          or c.tenant_id is distinct from e.tenant_id or p.e164 is distinct from e.to_e164
          or ct.phone_number is distinct from e.from_e164 or m.direction::text <> 'INBOUND')::int as misrouted
      from bench_expected e
      join messages m on m.twilio_sid = e.sid
      left join conversations c on c.id = m.conversation_id
      left join phone_numbers p on p.id = c.phone_number_id
      left join contacts ct on ct.id = c.contact_id`;
    return { expected: expected.length, stored: row!.stored, duplicates: row!.rows - row!.stored, misrouted: row!.misrouted };
  } finally {
    await reserved`drop table if exists bench_expected`.catch(() => {});
    reserved.release();
  }
}
