import { eq } from 'drizzle-orm';
import type { MediaRef } from '../../src/modules/media/media-links.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { localUrl, sendInbound } from '../helpers/twilio-setup.js';
import { EMPTY_TWIML, contactOf, dbOf, messagesOf, randomUsNumber, tenantWithNumber, type TenantWithNumber } from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

const MESSAGES = `query($id: ID!) { conversation(id: $id) { messages(first: 20) { edges { node {
  id direction body mediaDropped media { url contentType } } } } } }`;

interface MediaNode {
  id: string;
  direction: string;
  body: string;
  mediaDropped: number;
  media: Array<{ url: string; contentType: string }>;
}

async function messagesViaApi(t: TenantWithNumber, conversationId: string): Promise<MediaNode[]> {
  const res = await server.gql(MESSAGES, { id: conversationId }, t.tenant.token);
  expect(res.errors).toBeUndefined();
  return res.data!.conversation.messages.edges.map((e: { node: MediaNode }) => e.node);
}

/** An MMS with a PNG, a JPEG and a PDF, sent to the tenant's number. */
async function sendMms(t: TenantWithNumber, body = 'photos') {
  const sid = fakeSid('MM');
  const media = [
    { url: fake.addMedia(t.account.accountSid, 'image/png', PNG, { messageSid: sid }), contentType: 'image/png' },
    { url: fake.addMedia(t.account.accountSid, 'image/jpeg', JPEG, { messageSid: sid }), contentType: 'image/jpeg' },
    { url: fake.addMedia(t.account.accountSid, 'application/pdf', '%PDF-1.4 fake', { messageSid: sid }), contentType: 'application/pdf' },
  ];
  const from = randomUsNumber();
  const res = await sendInbound(server, t.account, { from, to: t.number.e164, body, media, messageSid: sid });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(EMPTY_TWIML);
  const [row] = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
  return { row: row!, media, from };
}

describe('MMS', () => {
  it('keeps every NumMedia item when all types are accepted', async () => {
    const t = await tenantWithNumber(server, fake);
    const { row, media } = await sendMms(t);
    expect(row.media).toEqual(media);
    expect(row.mediaDropped).toBe(0);
  });

  it('a media filter (image/) drops the PDF and records it; links serve the bytes through our route', async () => {
    const t = await tenantWithNumber(server, fake, { acceptedMediaTypes: ['image/'] });
    const { row, media } = await sendMms(t);
    expect(row.media).toEqual(media.slice(0, 2));
    expect(row.mediaDropped).toBe(1);

    const [node] = await messagesViaApi(t, row.conversationId);
    expect(node).toMatchObject({ id: row.id, direction: 'INBOUND', body: 'photos', mediaDropped: 1 });
    expect(node!.media.map((m) => m.contentType)).toEqual(['image/png', 'image/jpeg']);
    const publicUrl = server.app.deps.config.publicUrl;
    for (const m of node!.media) {
      // Our own link: never Twilio's URL, never credentials.
      expect(m.url.startsWith(`${publicUrl}/media/`)).toBe(true);
      expect(m.url).not.toContain(t.account.accountSid);
      expect(m.url).not.toContain(t.account.authToken);
    }

    fake.reset();
    const res = await fetch(localUrl(server, node!.media[0]!.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    const second = await fetch(localUrl(server, node!.media[1]!.url));
    expect(Buffer.from(await second.arrayBuffer()).equals(JPEG)).toBe(true);

    // Twilio's media URL got the account's Basic auth; the CDN it redirected to did not.
    const apiHit = fake.requests.find((r) => r.path.includes('/Media/ME'));
    const cdnHit = fake.requests.find((r) => r.path.startsWith('/cdn/'));
    expect(apiHit).toMatchObject({ authorization: true, status: 307 });
    expect(cdnHit).toMatchObject({ authorization: false, status: 200 });
  });

  it('mediaEnabled false exposes no media and records them all as dropped', async () => {
    const t = await tenantWithNumber(server, fake, { mediaEnabled: false });
    const { row } = await sendMms(t, '');
    expect(row.media).toEqual([]);
    expect(row.mediaDropped).toBe(3);
    expect(row.body).toBe('');
    const [node] = await messagesViaApi(t, row.conversationId);
    expect(node).toMatchObject({ media: [], mediaDropped: 3 });
  });

  it('refuses tampered, expired and other-tenant links', async () => {
    const t = await tenantWithNumber(server, fake);
    const other = await tenantWithNumber(server, fake);
    const { row } = await sendMms(t);
    const config = server.app.deps.config;
    const good = signMediaLink(server, { tenantId: t.tenant.tenantId, messageId: row.id, index: 0 });
    expect((await fetch(localUrl(server, good))).status).toBe(200);

    const url = new URL(good);
    const sig = url.searchParams.get('signature')!;
    const flipped = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA');
    const variants = [
      good.replace(`signature=${sig}`, `signature=${flipped}`),
      good.replace(/signature=[^&]+/, ''),
      good.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`),
      good.replace(`/${row.id}/0?`, `/${row.id}/1?`),
      good.replace(t.tenant.tenantId, other.tenant.tenantId),
    ];
    for (const v of variants) expect((await fetch(localUrl(server, v))).status, v).toBe(403);

    const expired = signMediaLink(server, { tenantId: t.tenant.tenantId, messageId: row.id, index: 0 }, Date.now() - (config.mediaLinkTtlSeconds + 120) * 1000);
    const res = await fetch(localUrl(server, expired));
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/);

    // Properly signed, but nothing there (index past the end, or a message of no one).
    const past = signMediaLink(server, { tenantId: t.tenant.tenantId, messageId: row.id, index: 7 });
    expect((await fetch(localUrl(server, past))).status).toBe(404);
    const foreign = signMediaLink(server, { tenantId: other.tenant.tenantId, messageId: row.id, index: 0 });
    expect((await fetch(localUrl(server, foreign))).status).toBe(404);
  });

  it('serves files that are not images as downloads, never as pages of our origin', async () => {
    const t = await tenantWithNumber(server, fake);
    const { row } = await sendMms(t);
    const link = signMediaLink(server, { tenantId: t.tenant.tenantId, messageId: row.id, index: 2 });
    const res = await fetch(localUrl(server, link));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe('attachment');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('%PDF-1.4 fake');
  });

  it('outbound media is shown as the URLs that were sent', async () => {
    const t = await tenantWithNumber(server, fake);
    const from = randomUsNumber();
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'send me the form' });
    const [inbound] = await messagesOf(server, t.tenant.tenantId);
    const sent = [{ url: 'https://cdn.example.com/form.pdf', contentType: 'application/pdf' }];
    await dbOf(server).insert(messages).values({
      tenantId: t.tenant.tenantId,
      conversationId: inbound!.conversationId,
      twilioAccountId: t.account.id,
      direction: MessageDirection.OUTBOUND,
      body: 'here it is',
      media: sent,
      status: MessageStatus.SENT,
      segments: 1,
    });
    const nodes = await messagesViaApi(t, inbound!.conversationId);
    expect(nodes.find((n) => n.direction === 'OUTBOUND')!.media).toEqual(sent);
    expect((await contactOf(server, t.tenant.tenantId, from))!.phoneNumber).toBe(from);
  });

  it('Twilio no longer having the media → 404 from our route', async () => {
    const t = await tenantWithNumber(server, fake);
    const from = randomUsNumber();
    const gone = `${fake.url}/2010-04-01/Accounts/${t.account.accountSid}/Messages/MM${'1'.repeat(32)}/Media/ME${'2'.repeat(32)}`;
    await sendInbound(server, t.account, { from, to: t.number.e164, body: '', media: [{ url: gone, contentType: 'image/png' }] });
    const [row] = await messagesOf(server, t.tenant.tenantId);
    const link = signMediaLink(server, { tenantId: t.tenant.tenantId, messageId: row!.id, index: 0 });
    expect((await fetch(localUrl(server, link))).status).toBe(404);
  });
});

/** A link signed by the server's own signer, as the Message.media field makes them. */
function signMediaLink(server: TestServer, ref: MediaRef, nowMs?: number): string {
  const { mediaLinks, config } = server.app.deps;
  return mediaLinks.sign(config.publicUrl, ref, nowMs);
}
