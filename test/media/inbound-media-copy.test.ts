import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaCopyJobs, mediaFiles, messages } from '../../src/db/schema.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { onServer, pngBytes } from '../helpers/media.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { randomUsNumber } from '../inbound/fixtures.js';

let fake: FakeTwilio;

beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(async () => {
  await fake?.close();
});

const MEDIA = `query($id: ID!) { conversation(id: $id) { messages(first: 5) { edges { node { id media { url contentType } } } } } }`;

async function sendMms(server: TestServer, inbox: Inbox, items: Array<{ type: string; bytes: Buffer | string }>) {
  const sid = fakeSid('MM');
  const media = items.map((i) => ({ url: fake.addMedia(inbox.account.accountSid, i.type, i.bytes, { messageSid: sid }), contentType: i.type }));
  const res = await sendInbound(server, inbox.account, { from: randomUsNumber(), to: inbox.number.e164, body: 'look', media, messageSid: sid });
  expect(res.status).toBe(200);
  const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.twilioSid, sid));
  return { row: row!, media };
}

function copiedRow(server: TestServer, messageId: string, count: number) {
  return waitFor(
    async () => {
      const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.id, messageId));
      return row && row.media.length === count && row.media.every((m) => m.fileId) ? row : undefined;
    },
    { timeoutMs: 15_000, what: 'the media copies' },
  );
}

async function linksOf(server: TestServer, inbox: Inbox, conversationId: string) {
  const res = await server.gql(MEDIA, { id: conversationId }, inbox.tenant.token);
  expect(res.errors).toBeUndefined();
  return res.data!.conversation.messages.edges[0].node.media as Array<{ url: string; contentType: string }>;
}

describe('inbound media copied into our storage', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MEDIA_COPY_POLL_MS: '100' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('still served by the proxy link after Twilio deletes it', async () => {
    const inbox = await setUpInbox(server, fake);
    const png = pngBytes(4000, 5);
    const pdf = '%PDF-1.4 the contract';
    const { row, media } = await sendMms(server, inbox, [
      { type: 'image/png', bytes: png },
      { type: 'application/pdf', bytes: pdf },
    ]);
    const copied = await copiedRow(server, row.id, 2);
    const files = await server.app.deps.db.select().from(mediaFiles).where(eq(mediaFiles.tenantId, inbox.tenant.tenantId));
    expect(files.map((f) => [f.origin, f.contentType, f.size]).sort()).toEqual([
      ['INBOUND', 'application/pdf', Buffer.byteLength(pdf)],
      ['INBOUND', 'image/png', 4000],
    ]);
    expect(copied.media.map((m) => m.url)).toEqual(media.map((m) => m.url));
    // The fetches went to Twilio with the account's credentials and to the CDN without them
    // (the fake CDN answers 400 to a request carrying them): every CDN answer was a 200.
    const cdn = fake.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(cdn.length).toBeGreaterThanOrEqual(2);
    expect(cdn.every((r) => !r.authorization && r.status === 200)).toBe(true);

    for (const m of media) fake.deleteMedia(m.url);
    const links = await linksOf(server, inbox, row.conversationId);
    const [image, document] = await Promise.all(links.map((l) => fetch(onServer(server, l.url))));
    expect(image!.status).toBe(200);
    expect(image!.headers.get('content-type')).toBe('image/png');
    expect(Buffer.compare(Buffer.from(await image!.arrayBuffer()), png)).toBe(0);
    expect(document!.status).toBe(200);
    expect(document!.headers.get('content-disposition')).toBe('attachment');
    expect(await document!.text()).toBe(pdf);
    expect(await server.app.deps.db.select().from(mediaCopyJobs).where(eq(mediaCopyJobs.tenantId, inbox.tenant.tenantId))).toEqual([]);
  });

  it("respects the account's media settings: items not accepted are neither kept nor copied", async () => {
    const inbox = await setUpInbox(server, fake, { accountExtra: { acceptedMediaTypes: ['image/'] } });
    const { row } = await sendMms(server, inbox, [
      { type: 'image/png', bytes: pngBytes(500) },
      { type: 'application/pdf', bytes: '%PDF-1.4 no' },
    ]);
    await copiedRow(server, row.id, 1);
    const files = await server.app.deps.db.select().from(mediaFiles).where(eq(mediaFiles.tenantId, inbox.tenant.tenantId));
    expect(files.map((f) => f.contentType)).toEqual(['image/png']);
  });
});

describe('copy jobs are durable', () => {
  it('jobs written by an instance that does not copy are done by the next one on the same database', async () => {
    // The same data for two servers in turn: a Postgres database, or PGlite on disk.
    let database: TestDatabase;
    let dataDir: string | null = null;
    if (usingPostgres) {
      database = await createTestDatabase();
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'pglite-copy-'));
      database = { kind: 'pglite', env: { DATA_DIR: dataDir }, drop: async () => {} };
    }
    const first = await startTestServer({ MEDIA_COPY_ENABLED: 'false' }, database);
    let second: TestServer | null = null;
    try {
      const inbox = await setUpInbox(first, fake);
      const { row } = await sendMms(first, inbox, [{ type: 'image/png', bytes: pngBytes(700) }]);
      expect(await first.app.deps.db.select().from(mediaCopyJobs).where(eq(mediaCopyJobs.messageId, row.id))).toHaveLength(1);
      await first.close({ dropDatabase: false });

      second = await startTestServer({ MEDIA_COPY_POLL_MS: '100' }, database);
      const copied = await copiedRow(second, row.id, 1);
      expect(copied.media[0]!.fileId).toEqual(expect.any(String));
    } finally {
      await second?.close({ dropDatabase: true });
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
    // Two server starts on a disk database: slow on a loaded machine.
  }, 120_000);
});
