import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { guardedDispatcher, isPublicAddress, refuseUrl, type OutboundPolicy } from '../../src/shared/outbound-guard.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { dbOf, randomUsNumber, tenantWithNumber } from '../inbound/fixtures.js';

/** An internal service that must never be reached: counts TCP connections, not just requests. */
async function startInternalService() {
  let connections = 0;
  const server = http.createServer((_req, res) => res.end('INTERNAL SECRET: db password hunter2'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let server: TestServer;
let fake: FakeTwilio;
let internal: Awaited<ReturnType<typeof startInternalService>>;

beforeAll(async () => {
  [server, fake, internal] = await Promise.all([startTestServer(), startFakeTwilio(), startInternalService()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close(), internal?.close()]);
});

describe('media proxy SSRF', () => {
  it('never stores a MediaUrl outside the account’s Twilio media origin, in any spelling', async () => {
    const t = await tenantWithNumber(server, fake);
    const p = internal.port;
    const hostile = [
      `http://127.0.0.1:${p}/secret`,
      `http://localhost:${p}/secret`,
      `http://2130706433:${p}/secret`,
      `http://0x7f.0.0.1:${p}/secret`,
      `http://[::ffff:127.0.0.1]:${p}/secret`,
      `http://169.254.169.254/latest/meta-data/`,
      `https://evil.example.com/redirects-inward`,
    ];
    const sid = fakeSid('MM');
    const res = await sendInbound(server, t.account, {
      from: randomUsNumber(),
      to: t.number.e164,
      body: 'look',
      messageSid: sid,
      media: hostile.map((url) => ({ url, contentType: 'image/png' })),
    });
    expect(res.status).toBe(200);
    const [row] = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
    expect(row!.media).toEqual([]);
    expect(row!.mediaDropped).toBe(hostile.length);
    expect(internal.connections()).toBe(0);
  });

  it('refuses a stored foreign URL at fetch time (rows kept from before the check)', async () => {
    const t = await tenantWithNumber(server, fake);
    const sid = fakeSid('MM');
    const good = fake.addMedia(t.account.accountSid, 'image/png', 'png', { messageSid: sid });
    await sendInbound(server, t.account, { from: randomUsNumber(), to: t.number.e164, body: '', messageSid: sid, media: [{ url: good, contentType: 'image/png' }] });
    const [row] = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
    await dbOf(server)
      .update(messages)
      .set({ media: [{ url: `http://127.0.0.1:${internal.port}/secret`, contentType: 'image/png' }] })
      .where(eq(messages.id, row!.id));
    const link = server.app.deps.mediaLinks.sign(server.app.deps.config.publicUrl, { tenantId: t.tenant.tenantId, messageId: row!.id, index: 0 });
    const served = await fetch(server.url + new URL(link).pathname + new URL(link).search);
    expect(served.status).toBe(502);
    expect(await served.text()).not.toContain('SECRET');
    expect(internal.connections()).toBe(0);
  });

  it('refuses a redirect that leaves the media origin (a public host redirecting inward)', async () => {
    const t = await tenantWithNumber(server, fake);
    const sid = fakeSid('MM');
    const url = fake.addMedia(t.account.accountSid, 'image/png', 'png', { messageSid: sid, redirectTo: `http://127.0.0.1:${internal.port}/secret` });
    await sendInbound(server, t.account, { from: randomUsNumber(), to: t.number.e164, body: '', messageSid: sid, media: [{ url, contentType: 'image/png' }] });
    const [row] = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
    expect(row!.media).toHaveLength(1);
    const link = server.app.deps.mediaLinks.sign(server.app.deps.config.publicUrl, { tenantId: t.tenant.tenantId, messageId: row!.id, index: 0 });
    const served = await fetch(server.url + new URL(link).pathname + new URL(link).search);
    expect(served.status).toBe(502);
    expect(await served.text()).not.toContain('SECRET');
    expect(internal.connections()).toBe(0);
  });

  it('still serves the account’s own media through the redirect to its CDN', async () => {
    const t = await tenantWithNumber(server, fake);
    const sid = fakeSid('MM');
    const url = fake.addMedia(t.account.accountSid, 'image/png', 'the png bytes', { messageSid: sid });
    await sendInbound(server, t.account, { from: randomUsNumber(), to: t.number.e164, body: '', messageSid: sid, media: [{ url, contentType: 'image/png' }] });
    const [row] = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, sid));
    const link = server.app.deps.mediaLinks.sign(server.app.deps.config.publicUrl, { tenantId: t.tenant.tenantId, messageId: row!.id, index: 0 });
    const served = await fetch(server.url + new URL(link).pathname + new URL(link).search);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('the png bytes');
  });
});

describe('outbound guard (production policy: no private addresses)', () => {
  const policy: OutboundPolicy = { allowPrivate: false, trustedHosts: [], requireHttps: false };

  it('classifies addresses: public unicast only', () => {
    for (const a of ['8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '224.0.0.1', '255.255.255.255', '2002:7f00:1::', 'not an ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });

  it('refuses loopback URLs in every spelling before connecting', () => {
    for (const raw of ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]/', 'http://localhost/', 'http://metadata/', 'http://10.0.0.1/', 'file:///etc/passwd', 'http://user:pw@example.com/']) {
      expect(refuseUrl(new URL(raw), policy), raw).not.toBeNull();
    }
    expect(refuseUrl(new URL('https://api.twilio.com/'), policy)).toBeNull();
    expect(refuseUrl(new URL('http://api.twilio.com/'), { ...policy, requireHttps: true })).toMatch(/https/);
  });

  it('the dispatcher itself never connects to a refused address: by name (lookup) or literal (connected-socket check)', async () => {
    const dispatcher = guardedDispatcher(policy);
    const before = internal.connections();
    for (const raw of [`http://localhost:${internal.port}/`, `http://127.0.0.1:${internal.port}/`, `http://2130706433:${internal.port}/`, `http://[::ffff:127.0.0.1]:${internal.port}/`]) {
      await expect(undiciFetch(raw, { dispatcher }), raw).rejects.toThrow();
    }
    expect(internal.connections()).toBe(before);
  });
});
