import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../../src/sandbox/twilio-simulator.js';
import { isValidTwilioSignature } from '../../src/twilio/signature.js';
import { waitFor } from '../helpers/wait.js';

/** A receiver standing in for our server: records every signed form posted to it. */
interface Received {
  path: string;
  params: Record<string, string>;
  signature: string;
  at: number;
}

let receiver: http.Server;
let receiverUrl = '';
const received: Received[] = [];
let sim: FakeTwilio;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        params: Object.fromEntries(new URLSearchParams(body)),
        signature: String(req.headers['x-twilio-signature'] ?? ''),
        at: Date.now(),
      });
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sim = await startFakeTwilio();
});

afterAll(async () => {
  await sim.close();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

async function send(account: { sid: string; authToken: string }, form: Record<string, string>) {
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${account.sid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${account.sid}:${account.authToken}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as { sid?: string; code?: number; status?: string } };
}

const callbacksFor = (sid: string) => received.filter((r) => r.params.MessageSid === sid);

describe('Twilio simulator', () => {
  it('plays back sent then delivered to the StatusCallback, signed like Twilio, with the configured delays', async () => {
    sim.setDeliveryPlayback({ sentAfterMs: [50, 80], deliveredAfterMs: [100, 150], failureShare: 0 });
    const account = sim.addAccount();
    const callback = `${receiverUrl}/status?messageId=abc`;
    const accepted = Date.now();
    const { status, json } = await send(account, { To: '+14155550100', From: '+15005550006', Body: 'hi', StatusCallback: callback });
    expect(status).toBe(201);
    expect(json.status).toBe('queued');
    await waitFor(() => callbacksFor(json.sid!).length === 2, { timeoutMs: 10_000 });
    const [sent, delivered] = callbacksFor(json.sid!);
    expect([sent!.params.MessageStatus, delivered!.params.MessageStatus]).toEqual(['sent', 'delivered']);
    // Lower bounds only (a loaded machine adds to them): sent ≥ 50 ms, delivered ≥ 50 + 100 ms.
    expect(sent!.at - accepted).toBeGreaterThanOrEqual(45);
    expect(delivered!.at - accepted).toBeGreaterThanOrEqual(145);
    for (const cb of [sent!, delivered!]) {
      expect(cb.path).toBe('/status?messageId=abc');
      expect(isValidTwilioSignature(account.authToken, cb.signature, callback, cb.params)).toBe(true);
      expect(isValidTwilioSignature('another token', cb.signature, callback, cb.params)).toBe(false);
      expect(cb.params.ErrorCode).toBeUndefined();
    }
    expect(sim.messages.find((m) => m.sid === json.sid)?.status).toBe('delivered');
  });

  it('ends the configured share of messages undelivered with 30003 or 30005', async () => {
    sim.setDeliveryPlayback({ sentAfterMs: [0, 5], deliveredAfterMs: [0, 5], failureShare: 1 });
    const account = sim.addAccount();
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { json } = await send(account, { To: '+14155550100', From: '+15005550006', Body: `n${i}`, StatusCallback: `${receiverUrl}/s` });
      sids.push(json.sid!);
    }
    await waitFor(() => sids.every((sid) => callbacksFor(sid).length === 2), { timeoutMs: 10_000 });
    for (const sid of sids) {
      // Callbacks are separate requests: like Twilio's, they may arrive out of order.
      const last = callbacksFor(sid).find((c) => c.params.MessageStatus !== 'sent')!;
      expect(last.params.MessageStatus).toBe('undelivered');
      expect(['30003', '30005']).toContain(last.params.ErrorCode);
    }
    sim.setDeliveryPlayback(null);
  });

  it('texts a number like a phone: signed webhook to its SmsUrl, media behind Basic auth, Advanced Opt-Out', async () => {
    const account = sim.addAccount();
    const smsUrl = `${receiverUrl}/sms`;
    sim.addIncomingNumber(account.sid, { phoneNumber: '+15005550100', smsUrl });
    const customer = '+14155550123';

    const withImage = await sim.sendInbound({ from: customer, to: '+15005550100', body: 'look', media: [{ contentType: 'image/png', bytes: 'PNGDATA' }] });
    expect(withImage).toMatchObject({ webhookStatus: 200, optOutType: null });
    const hook = received.find((r) => r.params.MessageSid === withImage.messageSid)!;
    expect(hook.path).toBe('/sms');
    expect(isValidTwilioSignature(account.authToken, hook.signature, smsUrl, hook.params)).toBe(true);
    expect(hook.params).toMatchObject({ From: customer, To: '+15005550100', Body: 'look', NumMedia: '1', MediaContentType0: 'image/png' });
    expect(hook.params.MessageSid).toMatch(/^MM[0-9a-f]{32}$/);
    const anonymous = await fetch(hook.params.MediaUrl0!, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
    const authed = await fetch(hook.params.MediaUrl0!, {
      redirect: 'manual',
      headers: { authorization: `Basic ${Buffer.from(`${account.sid}:${account.authToken}`).toString('base64')}` },
    });
    expect(authed.status).toBe(307);
    expect(await (await fetch(authed.headers.get('location')!)).text()).toBe('PNGDATA');

    const stop = await sim.sendInbound({ from: customer, to: '+15005550100', body: ' stop ' });
    expect(stop.optOutType).toBe('STOP');
    expect(received.find((r) => r.params.MessageSid === stop.messageSid)!.params.OptOutType).toBe('STOP');
    expect(sim.isOptedOut('+15005550100', customer)).toBe(true);
    // Twilio answers the keyword itself.
    expect(sim.messages.at(-1)).toMatchObject({ direction: 'outbound', to: customer, automatic: true });
    expect(sim.messages.at(-1)!.body).toMatch(/unsubscribed/);
    const refused = await send(account, { To: customer, From: '+15005550100', Body: 'still there?' });
    expect(refused).toMatchObject({ status: 400, json: { code: 21610 } });
    // Another number of the account is another pair.
    expect((await send(account, { To: customer, From: '+15005550101', Body: 'other line' })).status).toBe(201);

    const start = await sim.sendInbound({ from: customer, to: '+15005550100', body: 'START' });
    expect(start.optOutType).toBe('START');
    expect(sim.isOptedOut('+15005550100', customer)).toBe(false);
    expect((await send(account, { To: customer, From: '+15005550100', Body: 'welcome back' })).status).toBe(201);
    expect((await sim.sendInbound({ from: customer, to: '+15005550100', body: 'help me with STOP' })).optOutType).toBeNull();
  });

  it('refuses to text a number that no account has, or that has no SmsUrl', async () => {
    await expect(sim.sendInbound({ from: '+14155550123', to: '+15009999999', body: 'x' })).rejects.toThrow(/not a number of any account/);
    const account = sim.addAccount();
    sim.addIncomingNumber(account.sid, { phoneNumber: '+15005550177' });
    await expect(sim.sendInbound({ from: '+14155550123', to: '+15005550177', body: 'x' })).rejects.toThrow(/no SmsUrl/);
  });
});
