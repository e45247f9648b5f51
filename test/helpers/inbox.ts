import { randomInt } from 'node:crypto';
import { signUpTenant, type SignedUpTenant } from './factories.js';
import type { FakeTwilio } from './fake-twilio.js';
import type { TestServer } from './test-server.js';
import { addNumber, connectAccount, sendInbound, type ConnectedAccount } from './twilio-setup.js';

/** A US number libphonenumber accepts as valid (exchange 2xx–9xx), different on each call. */
export function randomUsNumber(areaCode = '415'): string {
  return `+1${areaCode}${randomInt(2, 10)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
}

export interface Inbox {
  tenant: SignedUpTenant;
  account: ConnectedAccount;
  number: { id: string; e164: string };
}

/** A tenant with a Twilio account on the fake Twilio and one number, all through the public API. */
export async function setUpInbox(
  server: TestServer,
  fake: FakeTwilio,
  opts: { tenantName?: string; numberExtra?: Record<string, unknown>; accountExtra?: Parameters<typeof connectAccount>[4] } = {},
): Promise<Inbox> {
  const tenant = await signUpTenant(server, opts.tenantName ?? 'Acme Dental');
  const creds = fake.addAccount();
  const account = await connectAccount(server, tenant.token, fake.url, creds, opts.accountExtra ?? {});
  const number = await addNumber(server, tenant.token, account.id, randomUsNumber(), opts.numberExtra ?? {});
  return { tenant, account, number };
}

/** A customer texts our number through the signed inbound webhook; returns the conversation id. */
export async function customerTexts(server: TestServer, inbox: Inbox, from: string, body: string): Promise<string> {
  const res = await sendInbound(server, inbox.account, { from, to: inbox.number.e164, body });
  if (res.status !== 200) throw new Error(`inbound webhook answered ${res.status}: ${await res.text()}`);
  const found = await server.gql(
    `query { conversations(first: 100) { edges { node { id contact { phoneNumber } phoneNumber { id } } } } }`,
    {},
    inbox.tenant.token,
  );
  const edges = (found.data?.conversations?.edges ?? []) as Array<{ node: { id: string; contact: { phoneNumber: string }; phoneNumber: { id: string } } }>;
  const edge = edges.find((e) => e.node.contact.phoneNumber === from && e.node.phoneNumber.id === inbox.number.id);
  if (!edge) throw new Error(`no conversation for ${from}: ${JSON.stringify(found)}`);
  return edge.node.id;
}
