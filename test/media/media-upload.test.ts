import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaFiles } from '../../src/db/schema.js';
import { signUpTenant } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { exeBytes, onServer, pngBytes, startS3, upload, type S3Fake } from '../helpers/media.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { messagesOf, randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status media { url contentType } } }`;

async function inboxWithConversation(target: TestServer = server): Promise<{ inbox: Inbox; conversationId: string }> {
  const inbox = await setUpInbox(target, fake);
  const conversationId = await customerTexts(target, inbox, randomUsNumber('646'), 'Can you send the form?');
  return { inbox, conversationId };
}

/** The MediaUrl values of the fake Twilio's Messages POST carrying this body. */
async function sentMediaUrls(body: string): Promise<string[]> {
  const request = await waitFor(() => fake.messageRequests.find((r) => r.params['Body'] === body && r.status === 201), {
    timeoutMs: 10_000,
    what: `the send of "${body}"`,
  });
  return ([] as string[]).concat(request.params['MediaUrl'] ?? []);
}

describe('POST /media', () => {
  it('stores a file typed by its content and answers { id, contentType, size }', async () => {
    const tenant = await signUpTenant(server);
    const bytes = pngBytes(2048);
    // Named and declared as something else: the content decides.
    const res = await upload(server, tenant.token, bytes, 'scan.dat', 'application/octet-stream');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), contentType: 'image/png', size: 2048 });
    const [row] = await server.app.deps.db.select().from(mediaFiles).where(eq(mediaFiles.id, res.body.id!));
    expect(row).toMatchObject({ tenantId: tenant.tenantId, origin: 'UPLOAD', storage: 'POSTGRES', size: 2048, createdBy: tenant.userId });
    expect(Buffer.compare(row!.bytes!, bytes)).toBe(0);
  });

  it('recognises text formats Twilio takes (vCard) and refuses plain text', async () => {
    const tenant = await signUpTenant(server);
    const vcard = Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEND:VCARD\r\n');
    expect((await upload(server, tenant.token, vcard, 'ada.vcf', 'text/vcard')).body.contentType).toBe('text/vcard');
    const plain = await upload(server, tenant.token, Buffer.from('just some notes'), 'notes.txt', 'text/plain');
    expect(plain.status).toBe(415);
  });

  it('refuses a renamed executable, an anonymous caller and a file over 5 MB (413); nothing stored', async () => {
    const tenant = await signUpTenant(server);
    const exe = await upload(server, tenant.token, exeBytes(), 'holiday.png', 'image/png');
    expect(exe.status).toBe(415);
    expect(exe.body.error).toMatch(/cannot be sent by MMS|could not be recognised/);

    expect((await upload(server, null, pngBytes())).status).toBe(401);
    expect((await upload(server, 'not-a-token', pngBytes())).status).toBe(401);

    const big = await upload(server, tenant.token, pngBytes(6 * 1024 * 1024));
    expect(big.status).toBe(413);

    const rows = await server.app.deps.db.select({ id: mediaFiles.id }).from(mediaFiles).where(eq(mediaFiles.tenantId, tenant.tenantId));
    expect(rows).toEqual([]);
  });
});

describe('sendMessage with mediaIds', () => {
  it('Twilio fetches the signed link with HEAD and GET and gets the bytes; altered or expired links are refused', async () => {
    const { inbox, conversationId } = await inboxWithConversation();
    const bytes = pngBytes(10_000, 3);
    const uploaded = await upload(server, inbox.tenant.token, bytes);
    const res = await server.gql(SEND, { input: { conversationId, body: 'Here is the form', mediaIds: [uploaded.body.id] } }, inbox.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.sendMessage.media).toEqual([{ url: expect.stringContaining('/media/files/'), contentType: 'image/png' }]);

    const [mediaUrl] = await sentMediaUrls('Here is the form');
    expect(mediaUrl).toMatch(new RegExp(`^${server.app.deps.config.publicUrl}/media/files/${inbox.tenant.tenantId}/${uploaded.body.id}\\?expires=\\d+&signature=`));
    // The link lives past a Messaging Service's validity period (36,000 s).
    const expires = Number(new URL(mediaUrl!).searchParams.get('expires'));
    expect(expires * 1000 - Date.now()).toBeGreaterThan(36_000 * 1000);

    // Twilio checks with HEAD, then GETs, possibly more than once.
    const head = await fetch(onServer(server, mediaUrl!), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/png');
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    for (let i = 0; i < 2; i++) {
      const get = await fetch(onServer(server, mediaUrl!));
      expect(get.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), bytes)).toBe(0);
    }

    const altered = new URL(onServer(server, mediaUrl!));
    altered.searchParams.set('signature', altered.searchParams.get('signature')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    expect((await fetch(altered)).status).toBe(403);
    const pushedExpiry = new URL(onServer(server, mediaUrl!));
    pushedExpiry.searchParams.set('expires', String(expires + 60));
    expect((await fetch(pushedExpiry)).status).toBe(403);
    const otherFile = onServer(server, mediaUrl!).replace(uploaded.body.id!, '00000000-0000-4000-8000-000000000000');
    expect((await fetch(otherFile)).status).toBe(403);
    // A genuine link whose time is up.
    const expired = server.app.deps.mediaFileLinks.sign(server.app.deps.config.publicUrl, inbox.tenant.tenantId, uploaded.body.id!, 60, Date.now() - 3600_000);
    expect((await fetch(onServer(server, expired))).status).toBe(403);
  });

  it('over 10 media or 5 MB in all, or another tenant\'s file → BAD_USER_INPUT and nothing queued', async () => {
    const { inbox, conversationId } = await inboxWithConversation();
    const small = (await upload(server, inbox.tenant.token, pngBytes(100))).body.id!;
    const three = [0, 1].map(async () => (await upload(server, inbox.tenant.token, pngBytes(3 * 1024 * 1024))).body.id!);
    const big = await Promise.all(three);
    const other = await signUpTenant(server);
    const theirs = (await upload(server, other.token, pngBytes(100))).body.id!;

    const cases: Array<Record<string, unknown>> = [
      { mediaIds: Array(11).fill(small) },
      { mediaIds: Array(6).fill(small), mediaUrls: Array(5).fill('https://example.com/a.png') },
      { mediaIds: big },
      { mediaIds: [theirs] },
      { mediaIds: ['not-an-id'] },
    ];
    for (const extra of cases) {
      const res = await server.gql(SEND, { input: { conversationId, body: 'refused', ...extra } }, inbox.tenant.token);
      expect(errorCode(res), JSON.stringify(extra).slice(0, 80)).toBe('BAD_USER_INPUT');
    }
    const outbound = (await messagesOf(server, inbox.tenant.tenantId)).filter((m) => m.direction === 'OUTBOUND');
    expect(outbound).toEqual([]);

    // Exactly at the limits is fine: 10 media, under 5 MB.
    const ok = await server.gql(SEND, { input: { conversationId, body: 'ten', mediaIds: Array(10).fill(small) } }, inbox.tenant.token);
    expect(ok.errors).toBeUndefined();
    expect(await sentMediaUrls('ten')).toHaveLength(10);
  });
});

describe('media in an S3-compatible bucket (s3rver)', () => {
  let s3: S3Fake;
  let s3Server: TestServer;

  beforeAll(async () => {
    s3 = await startS3();
    s3Server = await startTestServer(s3.env);
  });
  afterAll(async () => {
    await s3Server?.close();
    await s3?.close();
  });

  it('keeps the bytes in the bucket, not in Postgres, and serves them to Twilio', async () => {
    const { inbox, conversationId } = await inboxWithConversation(s3Server);
    const bytes = pngBytes(50_000, 9);
    const uploaded = await upload(s3Server, inbox.tenant.token, bytes);
    expect(uploaded.status).toBe(201);
    const [row] = await s3Server.app.deps.db.select().from(mediaFiles).where(eq(mediaFiles.id, uploaded.body.id!));
    expect(row).toMatchObject({ storage: 'S3', bytes: null, size: 50_000 });

    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`${inbox.tenant.tenantId}/${uploaded.body.id}`);
    client.destroy();

    const res = await s3Server.gql(SEND, { input: { conversationId, body: 'From the bucket', mediaIds: [uploaded.body.id] } }, inbox.tenant.token);
    expect(res.errors).toBeUndefined();
    const [mediaUrl] = await sentMediaUrls('From the bucket');
    const get = await fetch(onServer(s3Server, mediaUrl!));
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('image/png');
    expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), bytes)).toBe(0);
  });
});
