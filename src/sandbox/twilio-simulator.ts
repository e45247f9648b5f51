/**
 * The Twilio simulator (the "fake Twilio" of the tests, the benchmarks and `npm run sandbox`): a
 * real HTTP server on 127.0.0.1 answering the slice of the REST API our client uses, the way
 * Twilio does (paths, Basic auth, JSON shapes, error bodies), plus helpers to send signed
 * webhooks to our own server. With a delivery playback it also plays back status callbacks
 * (sent → delivered, or undelivered with 30003/30005), and `sendInbound` texts a number the way
 * a customer's phone would, with Advanced Opt-Out's keyword handling.
 *
 *   const fake = await startFakeTwilio();
 *   const { sid, authToken } = fake.addAccount();
 *   fake.addIncomingNumber(sid, { phoneNumber: '+15005550006' });
 *   const api = createTwilioApi({ accountSid: sid, authToken, apiBaseUrl: fake.url });
 *   fake.failNextMessages(1, { status: 400, code: 21211 });
 *   ...
 *   await fake.close();
 *
 * Not modelled: subaccounts, From ownership checks on send, scheduled messages, rate limits
 * (program them with failNextMessages / onMessage).
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { computeTwilioSignature } from '../twilio/signature.js';
import { countSegments } from '../twilio/segments.js';
import { twilioErrorMessage } from '../twilio/errors.js';

export type FormParams = Record<string, string | string[]>;
export type FakeAccountStatus = 'active' | 'suspended' | 'closed';

export interface FakeAccountInit {
  sid?: string;
  authToken?: string;
  status?: FakeAccountStatus;
  friendlyName?: string;
}

export interface FakeNumberInit {
  phoneNumber: string;
  smsApplicationSid?: string | null;
  smsUrl?: string;
  smsCapable?: boolean;
  friendlyName?: string;
}

/** A number's current state as the fake holds it (a copy: mutate through the API). */
export interface FakeNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  smsUrl: string;
  smsMethod: string;
  smsFallbackUrl: string;
  smsApplicationSid: string | null;
  smsCapable: boolean;
}

export interface FakeMessageRequest {
  accountSid: string;
  /** The form exactly as received; repeated keys (MediaUrl) become arrays. */
  params: FormParams;
  /** Date.now() at arrival. */
  at: number;
  /** HTTP status answered (0 if the connection was dropped or is still pending). */
  status: number;
  /** SID of the created message, null unless it was created. */
  sid: string | null;
}

export interface FakeRequestRecord {
  method: string;
  /** Path with query string. */
  path: string;
  /** 0 until answered, or if the connection was dropped. */
  status: number;
  /** Whether an Authorization header was present. */
  authorization: boolean;
  at: number;
}

export interface FakeError {
  status: number;
  /** Twilio error code; defaults by status (429 → 20429, 500 → 20500, 503 → 20503). */
  code?: number;
  message?: string;
  /** Answer in the newer RFC 9457 shape (type, title, status, code, detail) some Twilio APIs use. */
  rfc9457?: boolean;
}

/** What to do with one request. Empty object = the normal behaviour. */
export interface FakeOutcome {
  /** Answer this error instead of doing the work. */
  error?: FakeError;
  /** Wait this long before answering (on top of setLatency). */
  delayMs?: number;
  /** Destroy the socket without answering (a network error on the client). */
  dropConnection?: boolean;
}

/** How the simulator plays back the life of an accepted message through its StatusCallback. */
export interface DeliveryPlayback {
  /** Delay range (ms) from acceptance to the 'sent' callback. */
  sentAfterMs: readonly [number, number];
  /** Delay range (ms) from 'sent' to 'delivered' (or 'undelivered'). */
  deliveredAfterMs: readonly [number, number];
  /** Share (0..1) of messages that end 'undelivered' with 30003 (unreachable) or 30005 (unknown handset). */
  failureShare: number;
}

/** What carriers make of a message: roughly the delays a US long code sees. */
export const REALISTIC_PLAYBACK: DeliveryPlayback = {
  sentAfterMs: [300, 900],
  deliveredAfterMs: [700, 2500],
  failureShare: 0.05,
};

/** One text as the simulated phone network saw it (both directions), for the customer phone page. */
export interface SimulatedMessage {
  sid: string;
  accountSid: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  body: string;
  /** Outbound: the URLs sent; inbound: the simulator's media URLs. */
  media: { url: string; contentType: string }[];
  /** queued, sent, delivered, undelivered (outbound); received (inbound). */
  status: string;
  errorCode: number | null;
  /** Twilio's own answer to an opt-out keyword, not sent through our server. */
  automatic: boolean;
  at: Date;
}

export interface CustomerTextInit {
  /** The customer's phone (E.164). */
  from: string;
  /** A number of one of the simulator's accounts; its SmsUrl receives the webhook. */
  to: string;
  body: string;
  media?: { contentType: string; bytes: Uint8Array | string }[];
}

export interface CustomerTextResult {
  messageSid: string;
  /** HTTP status of our server's answer to the webhook. */
  webhookStatus: number;
  /** STOP, START or HELP when Advanced Opt-Out recognised the body. */
  optOutType: string | null;
}

export interface SimulatorOptions {
  /** Play back status callbacks for every accepted message that carries a StatusCallback. */
  deliveryPlayback?: DeliveryPlayback | null;
}

export type FakeMessageHandler = (req: {
  accountSid: string;
  params: FormParams;
}) => FakeOutcome | void | Promise<FakeOutcome | void>;

export interface FakeTwilio {
  /** 'http://127.0.0.1:PORT': pass as apiBaseUrl. */
  readonly url: string;
  /** `accountSid` repeats `sid` so that `{ ...fake.addAccount(), apiBaseUrl: fake.url }` is a TwilioCredentials. */
  addAccount(init?: FakeAccountInit): { sid: string; accountSid: string; authToken: string };
  setAccountStatus(accountSid: string, status: FakeAccountStatus): void;
  addIncomingNumber(accountSid: string, init: FakeNumberInit): { sid: string };
  numbers(accountSid: string): FakeNumber[];
  /** A short code of the account (GET /SMS/ShortCodes.json?ShortCode= finds it). */
  addShortCode(accountSid: string, shortCode: string): { sid: string };
  /** Every POST to Messages.json, in arrival order, failed ones included. */
  readonly messageRequests: FakeMessageRequest[];
  /** Every request received, in arrival order. */
  readonly requests: FakeRequestRecord[];
  /** SIDs of the messages deleted (DELETE …/Messages/{sid}.json), in order; their media are gone too. */
  readonly deletedMessageSids: string[];
  /** The next n Messages POSTs answer this error (before any onMessage handler). */
  failNextMessages(n: number, error: FakeError): void;
  /** The next n authenticated API requests of any kind answer this error. */
  failNextRequests(n: number, error: FakeError): void;
  /** Decide the outcome of each Messages POST not taken by failNextMessages; null removes it. */
  onMessage(handler: FakeMessageHandler | null): void;
  /** Delay every API answer by ms (0 to stop). */
  setLatency(ms: number): void;
  /**
   * Stores media and returns its Twilio URL (…/Messages/MM…/Media/ME…). Fetching it needs the
   * account's Basic auth and answers 307 to /cdn/… on this server, which serves the bytes and
   * rejects any request carrying an Authorization header (as S3 does): a client that follows
   * the redirect with the credentials still attached gets a 400.
   */
  addMedia(
    accountSid: string,
    contentType: string,
    bytes: Uint8Array | string,
    opts?: { messageSid?: string; redirectTo?: string },
  ): string;
  /** Starts (or with null stops) playing back status callbacks for new messages. */
  setDeliveryPlayback(playback: DeliveryPlayback | null): void;
  /** Every message the simulated network carried (accepted sends, customer texts, opt-out answers), oldest first. */
  readonly messages: SimulatedMessage[];
  /**
   * A customer texts one of the accounts' numbers: media is stored (served behind Basic auth),
   * Advanced Opt-Out keywords set OptOutType and block or unblock the pair (a send to a blocked
   * pair fails with 21610), and the signed webhook is posted to the number's SmsUrl.
   */
  sendInbound(init: CustomerTextInit): Promise<CustomerTextResult>;
  /** Whether `customer` has opted out of texts from `number` (Advanced Opt-Out, per number). */
  isOptedOut(number: string, customer: string): boolean;
  /** Deletes stored media as DELETE …/Media/ME….json does (its URL and CDN copy answer 404 after). */
  deleteMedia(mediaUrl: string): void;
  /**
   * Token rotation, step one: a secondary token that authenticates API calls at once, while the
   * primary (which signs webhooks) stays. `promoteSecondaryToken` makes it the primary and the
   * old primary stops working.
   */
  createSecondaryToken(accountSid: string): string;
  promoteSecondaryToken(accountSid: string): void;
  /** A Messaging Service (messaging.twilio.com/v1/Services) with these senders (E.164 numbers). */
  addMessagingService(accountSid: string, init?: { senders?: string[]; friendlyName?: string; useInboundWebhookOnNumber?: boolean }): { sid: string };
  messagingService(serviceSid: string): FakeMessagingService;
  /** Forget recorded requests, queued failures, the handler and the latency. Keeps accounts, numbers, media. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeMessagingService {
  sid: string;
  accountSid: string;
  friendlyName: string;
  inboundRequestUrl: string;
  fallbackUrl: string;
  useInboundWebhookOnNumber: boolean;
  senders: string[];
}

interface Account {
  sid: string;
  authToken: string;
  secondaryToken?: string | null;
  status: FakeAccountStatus;
  friendlyName: string;
  created: Date;
  numbers: Map<string, FakeNumber & { created: Date; updated: Date }>;
  shortCodes: Map<string, { sid: string; shortCode: string; created: Date }>;
}

interface StoredMedia {
  accountSid: string;
  contentType: string;
  bytes: Buffer;
  cdnToken: string;
  /** Where the media URL redirects instead of our CDN (a hostile or misconfigured upstream). */
  redirectTo?: string;
}

const API = '/2010-04-01';

/** Every running fake by its URL: test helpers provision numbers on the account they connected. */
const running = new Map<string, FakeTwilio>();

export function fakeTwilioAt(url: string): FakeTwilio | undefined {
  return running.get(url);
}

/** A Twilio-style SID: two-letter prefix + 32 lowercase hex digits. */
export function fakeSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

// Advanced Opt-Out's default keywords (whole body, any case) and Twilio's default answers.
const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);
const HELP_KEYWORDS = new Set(['HELP', 'INFO']);
const OPT_OUT_REPLIES: Record<string, string> = {
  STOP: 'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.',
  START: 'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
  HELP: 'Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
};

/** Advanced Opt-Out's OptOutType for a body, or null. */
export function optOutTypeOf(body: string): 'STOP' | 'START' | 'HELP' | null {
  const word = body.trim().toUpperCase();
  if (OPT_OUT_KEYWORDS.has(word)) return 'STOP';
  if (OPT_IN_KEYWORDS.has(word)) return 'START';
  if (HELP_KEYWORDS.has(word)) return 'HELP';
  return null;
}

export async function startFakeTwilio(options: SimulatorOptions = {}): Promise<FakeTwilio> {
  const accounts = new Map<string, Account>();
  const media = new Map<string, StoredMedia>(); // key: Twilio media path
  const services = new Map<string, FakeMessagingService>();
  const cdn = new Map<string, StoredMedia>(); // key: token
  const messageRequests: FakeMessageRequest[] = [];
  const deletedMessageSids: string[] = [];
  const requests: FakeRequestRecord[] = [];
  let messageFailures: FakeError[] = [];
  let requestFailures: FakeError[] = [];
  let messageHandler: FakeMessageHandler | null = null;
  let latencyMs = 0;
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = '';
  let playback: DeliveryPlayback | null = options.deliveryPlayback ?? null;
  const messages: SimulatedMessage[] = [];
  const optedOut = new Set<string>(); // `${number}|${customer}`
  const MAX_LOGGED_MESSAGES = 10_000;

  const logMessage = (m: SimulatedMessage) => {
    messages.push(m);
    if (messages.length > MAX_LOGGED_MESSAGES) messages.splice(0, messages.length - MAX_LOGGED_MESSAGES);
  };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const sleep = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, ms);
          timers.add(t);
        });

  const server = http.createServer((req, res) => {
    const record: FakeRequestRecord = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: 0,
      authorization: req.headers.authorization !== undefined,
      at: Date.now(),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { code: 20500, message: `Fake Twilio crashed: ${String(err)}`, status: 500 });
      }
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);

    if (url.pathname.startsWith('/cdn/')) return serveCdn(req, res, url.pathname.slice('/cdn/'.length));

    if (url.pathname.startsWith('/v1/Services/')) return handleService(req, res, url, method, rawBody);

    const m = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})(\/.*|\.json)$/.exec(url.pathname);
    if (!m) return notFound(res, url.pathname);
    const [, pathAccountSid = '', rest = ''] = m;

    await sleep(latencyMs);
    if (res.destroyed) return;

    const account = authenticate(req);
    if (!account) return sendError(res, { status: 401, code: 20003, message: 'Authenticate' });
    // Another account's resources are invisible, as with Twilio.
    if (account.sid !== pathAccountSid) return notFound(res, url.pathname);

    const forced = requestFailures.shift();
    if (forced) return sendError(res, forced);

    if (rest === '.json') {
      if (method !== 'GET') return methodNotAllowed(res);
      return sendJson(res, 200, accountJson(account));
    }
    if (rest === '/SMS/ShortCodes.json') {
      if (method !== 'GET') return methodNotAllowed(res);
      // Twilio matches patterns here too: the filter's digits anywhere in the code.
      const filter = (url.searchParams.get('ShortCode') ?? '').replace(/[^0-9]/g, '');
      const codes = [...account.shortCodes.values()].filter((c) => c.shortCode.includes(filter));
      return sendJson(res, 200, {
        first_page_uri: `${API}/Accounts/${account.sid}/SMS/ShortCodes.json?PageSize=50&Page=0`,
        end: Math.max(0, codes.length - 1),
        previous_page_uri: null,
        uri: `${API}/Accounts/${account.sid}/SMS/ShortCodes.json?PageSize=50&Page=0`,
        page_size: 50,
        start: 0,
        next_page_uri: null,
        page: 0,
        short_codes: codes.map((c) => ({
          account_sid: account.sid,
          api_version: '2010-04-01',
          date_created: rfc2822(c.created),
          date_updated: rfc2822(c.created),
          friendly_name: c.shortCode,
          short_code: c.shortCode,
          sid: c.sid,
          sms_fallback_method: 'POST',
          sms_fallback_url: null,
          sms_method: 'POST',
          sms_url: null,
          uri: `${API}/Accounts/${account.sid}/SMS/ShortCodes/${c.sid}.json`,
        })),
      });
    }
    if (rest === '/IncomingPhoneNumbers.json') {
      if (method !== 'GET') return methodNotAllowed(res);
      return sendJson(res, 200, listNumbers(account, url));
    }
    const num = /^\/IncomingPhoneNumbers\/(PN[0-9a-fA-F]{32})\.json$/.exec(rest);
    if (num) {
      const n = account.numbers.get(num[1] ?? '');
      if (!n) return notFound(res, url.pathname);
      if (method === 'POST') {
        const form = parseForm(rawBody);
        const str = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : undefined);
        n.smsUrl = str('SmsUrl') ?? n.smsUrl;
        n.smsMethod = str('SmsMethod') ?? n.smsMethod;
        n.smsFallbackUrl = str('SmsFallbackUrl') ?? n.smsFallbackUrl;
        n.friendlyName = str('FriendlyName') ?? n.friendlyName;
        const app = str('SmsApplicationSid');
        if (app !== undefined) n.smsApplicationSid = app === '' ? null : app;
        n.updated = new Date();
      } else if (method !== 'GET') {
        return methodNotAllowed(res);
      }
      return sendJson(res, 200, numberJson(n));
    }
    if (rest === '/Messages.json') {
      if (method === 'GET') return sendJson(res, 200, listMessages(account, url));
      if (method !== 'POST') return methodNotAllowed(res);
      return createMessage(account, parseForm(rawBody), res);
    }
    const msg = /^\/Messages\/((?:MM|SM)[0-9a-fA-F]{32})\.json$/.exec(rest);
    if (msg && method === 'DELETE') {
      const sid = msg[1]!;
      deletedMessageSids.push(sid);
      for (const key of [...media.keys()]) if (key.includes(`/Messages/${sid}/Media/`)) media.delete(key);
      res.writeHead(204).end();
      return;
    }
    const med = /^\/Messages\/(MM|SM)[0-9a-fA-F]{32}\/Media\/ME[0-9a-fA-F]{32}(\.json)?$/.exec(rest);
    if (med && method === 'DELETE') {
      const path = url.pathname.replace(/\.json$/, '');
      const stored = media.get(path);
      if (!stored) return notFound(res, url.pathname);
      media.delete(path);
      cdn.delete(stored.cdnToken);
      res.writeHead(204);
      res.end();
      return;
    }
    if (med) {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res);
      const stored = media.get(url.pathname);
      if (!stored) return notFound(res, url.pathname);
      res.writeHead(307, { Location: stored.redirectTo ?? `${baseUrl}/cdn/${stored.cdnToken}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    return notFound(res, url.pathname);
  }

  /** messaging.twilio.com/v1/Services/MG…[/PhoneNumbers|/ShortCodes] (on this same server). */
  async function handleService(req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string, rawBody: string) {
    await sleep(latencyMs);
    const account = authenticate(req);
    if (!account) return sendError(res, { status: 401, code: 20003, message: 'Authenticate' });
    const forced = requestFailures.shift();
    if (forced) return sendError(res, forced);
    const m = /^\/v1\/Services\/(MG[0-9a-fA-F]{32})(\/PhoneNumbers|\/ShortCodes)?$/.exec(url.pathname);
    const service = m ? services.get(m[1] ?? '') : undefined;
    if (!m || !service || service.accountSid !== account.sid) return notFound(res, url.pathname);
    const base = `https://messaging.twilio.com/v1/Services/${service.sid}`;
    const meta = (key: string, count: number) => ({
      page: 0,
      page_size: Math.max(count, 50),
      first_page_url: `${base}${m[2]}?PageSize=50&Page=0`,
      previous_page_url: null,
      url: `${base}${m[2]}?PageSize=50&Page=0`,
      next_page_url: null,
      key,
    });
    if (m[2] === '/PhoneNumbers' || m[2] === '/ShortCodes') {
      if (method !== 'GET') return methodNotAllowed(res);
      if (m[2] === '/ShortCodes') {
        const codes = service.senders.filter((x) => /^\d{5,6}$/.test(x));
        return sendJson(res, 200, { short_codes: codes.map((c) => ({ sid: fakeSid('SC'), short_code: c, service_sid: service.sid, account_sid: account.sid })), meta: meta('short_codes', codes.length) });
      }
      const nums = service.senders.filter((x) => x.startsWith('+'));
      return sendJson(res, 200, { phone_numbers: nums.map((n) => ({ sid: fakeSid('PN'), phone_number: n, service_sid: service.sid, account_sid: account.sid, capabilities: ['SMS'] })), meta: meta('phone_numbers', nums.length) });
    }
    if (method === 'POST') {
      const form = parseForm(rawBody);
      const str = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : undefined);
      service.inboundRequestUrl = str('InboundRequestUrl') ?? service.inboundRequestUrl;
      service.fallbackUrl = str('FallbackUrl') ?? service.fallbackUrl;
      service.friendlyName = str('FriendlyName') ?? service.friendlyName;
      const onNumber = str('UseInboundWebhookOnNumber');
      if (onNumber !== undefined) service.useInboundWebhookOnNumber = onNumber === 'true';
    } else if (method !== 'GET') {
      return methodNotAllowed(res);
    }
    return sendJson(res, 200, {
      sid: service.sid,
      account_sid: service.accountSid,
      friendly_name: service.friendlyName,
      inbound_request_url: service.inboundRequestUrl || null,
      inbound_method: 'POST',
      fallback_url: service.fallbackUrl || null,
      fallback_method: 'POST',
      use_inbound_webhook_on_number: service.useInboundWebhookOnNumber,
      sticky_sender: true,
      validity_period: 36000,
      url: base,
    });
  }

  async function createMessage(account: Account, params: FormParams, res: http.ServerResponse) {
    const entry: FakeMessageRequest = { accountSid: account.sid, params, at: Date.now(), status: 0, sid: null };
    messageRequests.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });

    const queued = messageFailures.shift();
    const outcome: FakeOutcome = queued
      ? { error: queued }
      : ((await messageHandler?.({ accountSid: account.sid, params })) ?? {});
    await sleep(outcome.delayMs ?? 0);
    if (outcome.dropConnection) {
      res.socket?.destroy();
      return;
    }
    if (outcome.error) return sendError(res, outcome.error);

    const one = (k: string): string | undefined => {
      const v = params[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const to = one('To');
    const from = one('From');
    const serviceSid = one('MessagingServiceSid');
    const body = one('Body') ?? '';
    const mediaUrls = ([] as string[]).concat(params['MediaUrl'] ?? []);

    // Twilio's own validation, in the order it applies it.
    if (!to) return sendError(res, { status: 400, code: 21604, message: "A 'To' phone number is required." });
    if (!from && !serviceSid) return sendError(res, { status: 400, code: 21603, message: "A 'From' phone number is required." });
    if (!body && mediaUrls.length === 0) return sendError(res, { status: 400, code: 21602, message: 'Message body is required.' });
    if (!/^\+[1-9]\d{6,14}$/.test(to)) {
      return sendError(res, { status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` });
    }
    if ([...body].length > 1600) {
      return sendError(res, { status: 400, code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' });
    }
    if (mediaUrls.length > 10) return sendError(res, { status: 400, code: 21623, message: 'Number of media files exceeds allowed limit.' });
    // Approximation: Twilio's exact answer for a suspended account is not documented.
    if (account.status !== 'active') return sendError(res, { status: 401, code: 10001, message: 'Account is not active' });

    if (from && optedOut.has(`${from}|${to}`)) {
      return sendError(res, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    }

    const sid = fakeSid(mediaUrls.length > 0 ? 'MM' : 'SM');
    entry.sid = sid;
    const logged: SimulatedMessage = {
      sid,
      accountSid: account.sid,
      direction: 'outbound',
      from: from ?? serviceSid ?? '',
      to,
      body,
      media: mediaUrls.map((url) => ({ url, contentType: '' })),
      status: 'queued',
      errorCode: null,
      automatic: false,
      at: new Date(),
    };
    logMessage(logged);
    const statusCallback = one('StatusCallback');
    if (playback) playBack(account, logged, statusCallback ?? null, playback);
    const now = rfc2822(new Date());
    const uri = `${API}/Accounts/${account.sid}/Messages/${sid}.json`;
    sendJson(res, 201, {
      account_sid: account.sid,
      api_version: '2010-04-01',
      body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: serviceSid ?? null,
      num_media: String(mediaUrls.length),
      num_segments: String(Math.max(1, countSegments(body).segments)),
      price: null,
      price_unit: 'USD',
      sid,
      // With only a Messaging Service, Twilio answers 'accepted' and picks the sender later.
      status: from ? 'queued' : 'accepted',
      subresource_uris: { media: `${API}/Accounts/${account.sid}/Messages/${sid}/Media.json` },
      to,
      uri,
    });
  }

  function between([min, max]: readonly [number, number]): number {
    return Math.round(min + Math.random() * Math.max(0, max - min));
  }

  /** sent after a while, then delivered (or undelivered with a handset error), each posted signed. */
  function playBack(account: Account, message: SimulatedMessage, callbackUrl: string | null, p: DeliveryPlayback) {
    const post = (status: string, errorCode?: number) => {
      message.status = status;
      message.errorCode = errorCode ?? null;
      if (!callbackUrl) return;
      const params = statusCallbackParams({
        accountSid: account.sid,
        messageSid: message.sid,
        status,
        from: message.from,
        to: message.to,
        ...(errorCode !== undefined ? { errorCode } : {}),
      });
      // Like Twilio: one attempt, whatever our server answers (or if it is down).
      signedFormPost(callbackUrl, account.authToken, params).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    };
    const sentAfter = between(p.sentAfterMs);
    later(sentAfter, () => {
      post('sent');
      later(between(p.deliveredAfterMs), () => {
        if (Math.random() < p.failureShare) post('undelivered', Math.random() < 0.5 ? 30003 : 30005);
        else post('delivered');
      });
    });
  }

  function findNumber(phoneNumber: string): { account: Account; number: FakeNumber } | null {
    for (const account of accounts.values()) {
      for (const number of account.numbers.values()) if (number.phoneNumber === phoneNumber) return { account, number };
    }
    return null;
  }

  function storeMedia(
    accountSid: string,
    contentType: string,
    bytes: Uint8Array | string,
    messageSid: string,
    redirectTo?: string,
  ): string {
    const path = `${API}/Accounts/${accountSid}/Messages/${messageSid}/Media/${fakeSid('ME')}`;
    const stored: StoredMedia = {
      accountSid,
      contentType,
      bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes),
      cdnToken: randomBytes(24).toString('hex'),
      ...(redirectTo ? { redirectTo } : {}),
    };
    media.set(path, stored);
    cdn.set(stored.cdnToken, stored);
    return baseUrl + path;
  }

  function serveCdn(req: http.IncomingMessage, res: http.ServerResponse, token: string) {
    const stored = cdn.get(token);
    if (!stored) return sendText(res, 404, 'text/plain', 'Not Found');
    if (req.headers.authorization !== undefined) {
      // What S3 says when a pre-signed URL also gets an Authorization header.
      return sendText(
        res,
        400,
        'application/xml',
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code>' +
          '<Message>Only one auth mechanism allowed</Message></Error>',
      );
    }
    res.writeHead(200, { 'Content-Type': stored.contentType, 'Content-Length': String(stored.bytes.length) });
    res.end(req.method === 'HEAD' ? undefined : stored.bytes);
  }

  function authenticate(req: http.IncomingMessage): Account | null {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (!m) return null;
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const account = accounts.get(decoded.slice(0, colon));
    const given = decoded.slice(colon + 1);
    if (!account || (account.authToken !== given && (!account.secondaryToken || account.secondaryToken !== given))) return null;
    // Closed accounts cannot authenticate at all.
    return account.status === 'closed' ? null : account;
  }

  function listNumbers(account: Account, url: URL) {
    const filter = (url.searchParams.get('PhoneNumber') ?? '').replace(/[^0-9]/g, '');
    const pageSize = clampInt(url.searchParams.get('PageSize'), 50, 1, 1000);
    const page = clampInt(url.searchParams.get('Page'), 0, 0, 1_000_000);
    // Twilio matches partial numbers: the filter's digits anywhere in the number.
    const all = [...account.numbers.values()]
      .filter((n) => n.phoneNumber.replace(/[^0-9]/g, '').includes(filter))
      .sort((a, b) => a.created.getTime() - b.created.getTime());
    const slice = all.slice(page * pageSize, (page + 1) * pageSize);
    const pageUri = (p: number) => {
      const q = new URLSearchParams();
      if (url.searchParams.has('PhoneNumber')) q.set('PhoneNumber', url.searchParams.get('PhoneNumber') ?? '');
      q.set('PageSize', String(pageSize));
      q.set('Page', String(p));
      return `${API}/Accounts/${account.sid}/IncomingPhoneNumbers.json?${q.toString()}`;
    };
    const start = page * pageSize;
    return {
      first_page_uri: pageUri(0),
      end: Math.max(start, start + slice.length - 1),
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      uri: pageUri(page),
      page_size: pageSize,
      start,
      next_page_uri: (page + 1) * pageSize < all.length ? pageUri(page + 1) : null,
      page,
      incoming_phone_numbers: slice.map(numberJson),
    };
  }

  /** GET Messages.json: the account's messages, newest first, filtered by To and From; first page only. */
  function listMessages(account: Account, url: URL) {
    const to = url.searchParams.get('To');
    const from = url.searchParams.get('From');
    const pageSize = clampInt(url.searchParams.get('PageSize'), 50, 1, 1000);
    const found: SimulatedMessage[] = [];
    for (let i = messages.length - 1; i >= 0 && found.length < pageSize; i--) {
      const m = messages[i]!;
      if (m.accountSid !== account.sid || (to !== null && m.to !== to) || (from !== null && m.from !== from)) continue;
      found.push(m);
    }
    const uri = `${API}/Accounts/${account.sid}/Messages.json?${url.searchParams.toString()}`;
    return {
      first_page_uri: uri,
      end: Math.max(0, found.length - 1),
      previous_page_uri: null,
      uri,
      page_size: pageSize,
      start: 0,
      // The first page only: enough for what the server asks (a recent message to one number).
      next_page_uri: null,
      page: 0,
      messages: found.map((m) => ({
        account_sid: m.accountSid,
        api_version: '2010-04-01',
        body: m.body,
        date_created: rfc2822(m.at),
        date_sent: m.status === 'queued' || m.status === 'accepted' ? null : rfc2822(m.at),
        date_updated: rfc2822(m.at),
        direction: m.direction === 'inbound' ? 'inbound' : 'outbound-api',
        error_code: m.errorCode,
        error_message: null,
        from: m.from.startsWith('MG') ? null : m.from,
        messaging_service_sid: m.from.startsWith('MG') ? m.from : null,
        num_media: String(m.media.length),
        num_segments: String(Math.max(1, countSegments(m.body).segments)),
        price: null,
        price_unit: 'USD',
        sid: m.sid,
        status: m.status,
        subresource_uris: { media: `${API}/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json` },
        to: m.to,
        uri: `${API}/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
      })),
    };
  }

  function accountJson(a: Account) {
    const uri = `${API}/Accounts/${a.sid}`;
    return {
      auth_token: a.authToken,
      date_created: rfc2822(a.created),
      date_updated: rfc2822(a.created),
      friendly_name: a.friendlyName,
      owner_account_sid: a.sid,
      sid: a.sid,
      status: a.status,
      subresource_uris: {
        incoming_phone_numbers: `${uri}/IncomingPhoneNumbers.json`,
        messages: `${uri}/Messages.json`,
      },
      type: 'Full',
      uri: `${uri}.json`,
    };
  }

  function numberJson(n: FakeNumber & { created: Date; updated: Date }) {
    return {
      account_sid: n.accountSid,
      address_requirements: 'none',
      address_sid: null,
      api_version: '2010-04-01',
      beta: false,
      capabilities: { fax: false, mms: n.smsCapable, sms: n.smsCapable, voice: true },
      date_created: rfc2822(n.created),
      date_updated: rfc2822(n.updated),
      emergency_status: 'Active',
      friendly_name: n.friendlyName,
      identity_sid: null,
      origin: 'twilio',
      phone_number: n.phoneNumber,
      sid: n.sid,
      sms_application_sid: n.smsApplicationSid ?? '',
      sms_fallback_method: 'POST',
      sms_fallback_url: n.smsFallbackUrl,
      sms_method: n.smsMethod,
      sms_url: n.smsUrl,
      status: 'in-use',
      status_callback: '',
      status_callback_method: 'POST',
      trunk_sid: null,
      uri: `${API}/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
      voice_application_sid: '',
      voice_method: 'POST',
      voice_url: '',
    };
  }

  function getAccount(sid: string): Account {
    const a = accounts.get(sid);
    if (!a) throw new Error(`fake Twilio: no account ${sid}`);
    return a;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeTwilio = {
    url: baseUrl,
    messageRequests,
    requests,
    deletedMessageSids,

    addAccount(init = {}) {
      const sid = init.sid ?? fakeSid('AC');
      if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) throw new Error(`fake Twilio: bad account SID ${sid}`);
      const authToken = init.authToken ?? randomBytes(16).toString('hex');
      accounts.set(sid, {
        sid,
        authToken,
        status: init.status ?? 'active',
        friendlyName: init.friendlyName ?? 'My first Twilio account',
        created: new Date(),
        numbers: new Map(),
        shortCodes: new Map(),
      });
      return { sid, accountSid: sid, authToken };
    },

    setAccountStatus(accountSid, status) {
      getAccount(accountSid).status = status;
    },

    addIncomingNumber(accountSid, init) {
      const a = getAccount(accountSid);
      const sid = fakeSid('PN');
      const now = new Date();
      a.numbers.set(sid, {
        sid,
        accountSid,
        phoneNumber: init.phoneNumber,
        friendlyName: init.friendlyName ?? init.phoneNumber,
        smsUrl: init.smsUrl ?? '',
        smsMethod: 'POST',
        smsFallbackUrl: '',
        smsApplicationSid: init.smsApplicationSid ?? null,
        smsCapable: init.smsCapable ?? true,
        created: now,
        updated: now,
      });
      return { sid };
    },

    numbers(accountSid) {
      return [...getAccount(accountSid).numbers.values()].map(
        ({ created: _c, updated: _u, ...n }): FakeNumber => ({ ...n }),
      );
    },

    addShortCode(accountSid, shortCode) {
      const sid = fakeSid('SC');
      getAccount(accountSid).shortCodes.set(sid, { sid, shortCode, created: new Date() });
      return { sid };
    },

    failNextMessages(n, error) {
      for (let i = 0; i < n; i++) messageFailures.push({ ...error });
    },

    failNextRequests(n, error) {
      for (let i = 0; i < n; i++) requestFailures.push({ ...error });
    },

    onMessage(handler) {
      messageHandler = handler;
    },

    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },

    addMedia(accountSid, contentType, bytes, opts = {}) {
      getAccount(accountSid);
      return storeMedia(accountSid, contentType, bytes, opts.messageSid ?? fakeSid('MM'), opts.redirectTo);
    },

    messages,

    setDeliveryPlayback(p) {
      playback = p;
    },

    isOptedOut(number, customer) {
      return optedOut.has(`${number}|${customer}`);
    },

    async sendInbound(init) {
      const found = findNumber(init.to);
      if (!found) throw new Error(`Twilio simulator: ${init.to} is not a number of any account`);
      const { account, number } = found;
      if (!number.smsUrl) throw new Error(`Twilio simulator: ${init.to} has no SmsUrl configured`);
      const items = init.media ?? [];
      if (items.length > 10) throw new Error('Twilio simulator: at most 10 media per message');
      const sid = fakeSid(items.length > 0 ? 'MM' : 'SM');
      const mediaRefs = items.map((m) => ({ url: storeMedia(account.sid, m.contentType, m.bytes, sid), contentType: m.contentType }));
      const optOutType = optOutTypeOf(init.body);
      const pair = `${init.to}|${init.from}`;
      if (optOutType === 'STOP') optedOut.add(pair);
      if (optOutType === 'START') optedOut.delete(pair);
      logMessage({
        sid,
        accountSid: account.sid,
        direction: 'inbound',
        from: init.from,
        to: init.to,
        body: init.body,
        media: mediaRefs,
        status: 'received',
        errorCode: null,
        automatic: false,
        at: new Date(),
      });
      if (optOutType) {
        // Twilio answers the keyword itself and still forwards the message to the webhook.
        logMessage({
          sid: fakeSid('SM'),
          accountSid: account.sid,
          direction: 'outbound',
          from: init.to,
          to: init.from,
          body: OPT_OUT_REPLIES[optOutType] ?? '',
          media: [],
          status: 'delivered',
          errorCode: null,
          automatic: true,
          at: new Date(),
        });
      }
      const params = inboundSmsParams({
        accountSid: account.sid,
        from: init.from,
        to: init.to,
        body: init.body,
        messageSid: sid,
        media: mediaRefs,
        extra: optOutType ? { OptOutType: optOutType } : {},
      });
      const response = await signedFormPost(number.smsUrl, account.authToken, params);
      await response.body?.cancel();
      return { messageSid: sid, webhookStatus: response.status, optOutType };
    },

    deleteMedia(mediaUrl) {
      const path = new URL(mediaUrl).pathname;
      const stored = media.get(path);
      if (!stored) throw new Error(`fake Twilio: no media ${mediaUrl}`);
      media.delete(path);
      cdn.delete(stored.cdnToken);
    },

    createSecondaryToken(accountSid) {
      const a = getAccount(accountSid);
      a.secondaryToken = randomBytes(16).toString('hex');
      return a.secondaryToken;
    },

    promoteSecondaryToken(accountSid) {
      const a = getAccount(accountSid);
      if (!a.secondaryToken) throw new Error(`fake Twilio: ${accountSid} has no secondary token`);
      a.authToken = a.secondaryToken;
      a.secondaryToken = null;
    },

    addMessagingService(accountSid, init = {}) {
      getAccount(accountSid);
      const sid = fakeSid('MG');
      services.set(sid, {
        sid,
        accountSid,
        friendlyName: init.friendlyName ?? 'Campaign service',
        inboundRequestUrl: '',
        fallbackUrl: '',
        useInboundWebhookOnNumber: init.useInboundWebhookOnNumber ?? true,
        senders: [...(init.senders ?? [])],
      });
      return { sid };
    },

    messagingService(serviceSid) {
      const s = services.get(serviceSid);
      if (!s) throw new Error(`fake Twilio: no service ${serviceSid}`);
      return { ...s, senders: [...s.senders] };
    },

    reset() {
      messageRequests.length = 0;
      deletedMessageSids.length = 0;
      requests.length = 0;
      messageFailures = [];
      requestFailures = [];
      messageHandler = null;
      latencyMs = 0;
    },

    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Keep-alive sockets from the SDK's pool would otherwise hold close() open.
      server.closeAllConnections();
      running.delete(baseUrl);
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
  running.set(baseUrl, fake);
  return fake;
}

// ---------------------------------------------------------------------------------------------
// Webhooks towards our server

/**
 * POSTs a form the way Twilio does, signed with X-Twilio-Signature over (url, params).
 * `url` must be the exact URL our server advertises (PUBLIC_URL + path). extraHeaders override
 * the defaults case-insensitively; null removes a header (e.g. to send no signature).
 */
export function signedFormPost(
  url: string,
  authToken: string,
  params: FormParams,
  extraHeaders: Record<string, string | null> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  }
  const headers = new Headers({
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Twilio-Signature': computeTwilioSignature(authToken, url, params),
    'I-Twilio-Idempotency-Token': randomUUID(),
    'User-Agent': 'TwilioProxy/1.1',
    Accept: '*/*',
  });
  for (const [k, v] of Object.entries(extraHeaders)) {
    if (v === null) headers.delete(k);
    else headers.set(k, v);
  }
  return fetch(url, { method: 'POST', headers, body: body.toString() });
}

export interface InboundSmsInit {
  accountSid: string;
  from: string;
  to: string;
  body: string;
  /** Default: SM… (MM… when media is given) + 32 hex. */
  messageSid?: string;
  messagingServiceSid?: string;
  media?: { url: string; contentType: string }[];
  /** Added last; overrides defaults; undefined removes a parameter (e.g. the geo fields). */
  extra?: Record<string, string | undefined>;
}

/** The parameter set Twilio posts to a number's SMS URL for an inbound message. */
export function inboundSmsParams(init: InboundSmsInit): Record<string, string> {
  const media = init.media ?? [];
  const sid = init.messageSid ?? fakeSid(media.length > 0 ? 'MM' : 'SM');
  // Same order as a captured Twilio request; order does not matter to the signature.
  const p: Record<string, string> = {
    ToCountry: 'US',
    ToState: 'CA',
    SmsMessageSid: sid,
    NumMedia: String(media.length),
    ToCity: 'SAN FRANCISCO',
    FromZip: '94105',
    SmsSid: sid,
    FromState: 'CA',
    SmsStatus: 'received',
    FromCity: 'SAN FRANCISCO',
    Body: init.body,
    FromCountry: 'US',
    To: init.to,
    ToZip: '94105',
    NumSegments: String(Math.max(1, countSegments(init.body).segments)),
    MessageSid: sid,
    AccountSid: init.accountSid,
    From: init.from,
    ApiVersion: '2010-04-01',
  };
  if (init.messagingServiceSid) p['MessagingServiceSid'] = init.messagingServiceSid;
  media.forEach((m, i) => {
    p[`MediaContentType${i}`] = m.contentType;
    p[`MediaUrl${i}`] = m.url;
  });
  for (const [k, v] of Object.entries(init.extra ?? {})) {
    if (v === undefined) delete p[k];
    else p[k] = v;
  }
  return p;
}

export interface StatusCallbackInit {
  accountSid: string;
  messageSid: string;
  status: string;
  from: string;
  to: string;
  messagingServiceSid?: string;
  errorCode?: number;
  extra?: Record<string, string | undefined>;
}

/** The parameter set Twilio posts to a message's StatusCallback URL. */
export function statusCallbackParams(init: StatusCallbackInit): Record<string, string> {
  const p: Record<string, string> = {
    SmsSid: init.messageSid,
    SmsStatus: init.status,
    MessageStatus: init.status,
    To: init.to,
    MessageSid: init.messageSid,
    AccountSid: init.accountSid,
    From: init.from,
    ApiVersion: '2010-04-01',
  };
  if (init.messagingServiceSid) p['MessagingServiceSid'] = init.messagingServiceSid;
  if (init.errorCode !== undefined) p['ErrorCode'] = String(init.errorCode);
  for (const [k, v] of Object.entries(init.extra ?? {})) {
    if (v === undefined) delete p[k];
    else p[k] = v;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseForm(raw: string): FormParams {
  const out: FormParams = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const DEFAULT_CODES: Record<number, number> = { 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503 };

function sendError(res: http.ServerResponse, e: FakeError) {
  const code = e.code ?? DEFAULT_CODES[e.status] ?? null;
  const message =
    e.message ?? (code !== null ? twilioErrorMessage(code) : null) ?? http.STATUS_CODES[e.status] ?? 'Error';
  const headers: Record<string, string> = {};
  if (e.status === 401) headers['WWW-Authenticate'] = 'Basic realm="Twilio API"';
  const moreInfo = `https://www.twilio.com/docs/errors/${code ?? e.status}`;
  const body = e.rfc9457
    ? { type: moreInfo, title: message, status: e.status, code: code ?? 0, detail: message }
    : { code, message, more_info: moreInfo, status: e.status };
  sendJson(res, e.status, body, headers);
}

function notFound(res: http.ServerResponse, path: string) {
  sendError(res, { status: 404, code: 20404, message: `The requested resource ${path} was not found` });
}

function methodNotAllowed(res: http.ServerResponse) {
  sendError(res, { status: 405, code: 20004, message: 'Method not allowed' });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

function sendText(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
) {
  if (res.destroyed || res.writableEnded) return; // the client gave up (timeout test)
  const buf = Buffer.from(text, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(buf.length) });
  res.end(buf);
}

function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

function clampInt(raw: string | null, dflt: number, min: number, max: number): number {
  const n = raw === null ? NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : dflt;
}
