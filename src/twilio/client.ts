import { errorText } from '../shared/errors.js';
/**
 * A thin, typed, per-account wrapper over the official `twilio` SDK, limited to the calls this
 * product makes. Everything that fails comes out as a TwilioApiError.
 *
 * Why a wrapper: tenants bring their own Twilio accounts, tests and staging point the SDK at
 * another API root, and the outbox needs one error shape to decide retry vs. fail.
 */
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type TwilioSdk from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { TwilioApiError } from './errors.js';
import { OutboundBlockedError, guardedNodeAgents, refuseUrl, type OutboundPolicy } from '../shared/outbound-guard.js';
import { messagesDispatcher, messagesUrl, postMessage } from './messages-http.js';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
  /** API root, e.g. https://api.twilio.com (tests: http://127.0.0.1:PORT). */
  apiBaseUrl: string;
}

export interface TwilioIncomingNumber {
  sid: string;
  phoneNumber: string;
  smsUrl: string | null;
  /** When set, Twilio ignores smsUrl and hands inbound SMS to that TwiML app. */
  smsApplicationSid: string | null;
  smsCapable: boolean;
}

export interface CreateMessageInput {
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  mediaUrl?: string[];
  statusCallback: string;
}

/** A number's messaging settings at Twilio; an omitted field is left as it is, '' clears it. */
export interface IncomingNumberSmsSettings {
  smsUrl?: string;
  smsFallbackUrl?: string;
}

export interface TwilioMessagingService {
  sid: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  fallbackUrl: string | null;
  useInboundWebhookOnNumber: boolean;
}

export interface MessagingServiceSettings {
  inboundRequestUrl?: string;
  inboundMethod?: 'POST';
  fallbackUrl?: string;
  fallbackMethod?: 'POST';
  useInboundWebhookOnNumber?: boolean;
}

export interface TwilioApi {
  fetchAccount(): Promise<{ sid: string; status: string; friendlyName: string }>;
  /** The account's number with exactly this E.164 value, or null. */
  findIncomingNumber(e164: string): Promise<TwilioIncomingNumber | null>;
  /** The account's short code with exactly these digits, or null (short codes are not IncomingPhoneNumbers). */
  findShortCode(shortCode: string): Promise<{ sid: string; shortCode: string } | null>;
  /** Sets the number's SmsUrl (POST) and, when given, its SmsFallbackUrl (POST). */
  updateIncomingNumberSmsUrl(numberSid: string, smsUrl: string, smsFallbackUrl?: string): Promise<void>;
  /** One number by its PN SID, or null when the account no longer has it. */
  fetchIncomingNumber(numberSid: string): Promise<(TwilioIncomingNumber & { smsFallbackUrl: string | null }) | null>;
  updateIncomingNumber(numberSid: string, settings: IncomingNumberSmsSettings): Promise<void>;
  /** A Messaging Service (messaging.twilio.com/v1/Services/MG…), or null when there is none. */
  fetchMessagingService(serviceSid: string): Promise<TwilioMessagingService | null>;
  /** The E.164 numbers (PhoneNumbers) and short codes of a Messaging Service's sender pool. */
  listMessagingServiceSenders(serviceSid: string): Promise<string[]>;
  updateMessagingService(serviceSid: string, settings: MessagingServiceSettings): Promise<void>;
  createMessage(input: CreateMessageInput): Promise<{ sid: string; status: string }>;
  /**
   * The account's most recent messages from `from` to `to`, newest first: one page of at most
   * `limit`. Finds out whether a create that timed out was taken after all.
   */
  listRecentMessages(filter: { to: string; from: string }, limit: number): Promise<ListedMessage[]>;
  /** DELETE the message and its media at Twilio (erasure, retention). A message still being sent is refused: retry later. */
  deleteMessage(messageSid: string): Promise<void>;
}

/** A message as the Messages list shows it: what tells a create that timed out from others. */
export interface ListedMessage {
  sid: string;
  body: string;
  dateCreated: Date | null;
}

export interface TwilioApiOptions {
  /** Per call, including every page of a list. Default 10 s. */
  timeoutMs?: number;
  /** HTTP_PROXY is set (Config.httpProxy): keep the SDK's proxy agent instead of the shared pool. */
  httpProxy?: boolean;
  /**
   * Where the API root may lead (checked when the client is built, i.e. at every send too, and
   * on every connection). Omitted only by unit tests of the wrapper itself.
   */
  outbound?: OutboundPolicy;
}

export const DEFAULT_TWILIO_API_BASE_URL = 'https://api.twilio.com';
const DEFAULT_TIMEOUT_MS = 10_000;
const E164 = /^\+[1-9]\d{1,14}$/;

type SdkModule = typeof TwilioSdk;
type SdkClient = ReturnType<SdkModule>;

// The SDK is the largest package we use (~0.3-0.4 s to load, issue 16: start-up) and most
// processes never need it: sends take messages-http.ts, and the SDK's calls (account checks,
// number settings, deletions) are occasional. So it is required (CommonJS, synchronously) by
// the first call that needs an SDK client, not when this module loads.
const requireFromHere = createRequire(import.meta.url);
let sdkModule: SdkModule | null = null;
function twilioSdk(): SdkModule {
  return (sdkModule ??= requireFromHere('twilio') as SdkModule);
}

// Process-wide keep-alive pools, shared by every account's client. They hold sockets only
// (Basic auth is a per-request header), so sharing leaks nothing between tenants, and it
// spares a TLS handshake per send when callers build a TwilioApi per message. The SDK's
// own agent is per RequestClient, i.e. per client, so it would never be reused.
// Idle sockets are closed after 15 s, before Twilio's side is likely to drop them.
const sharedHttpsAgent = new https.Agent({ keepAlive: true, timeout: 15_000, maxSockets: 50 });
const sharedHttpAgent = new http.Agent({ keepAlive: true, timeout: 15_000, maxSockets: 50 });

/**
 * twilio-node has no base-URL option, and it rewrites hostnames for TWILIO_REGION/TWILIO_EDGE
 * (read from process.env even when we pass explicit options). The HTTP client fixes the URL
 * after the SDK has built it (see rebaseTwilioUri), so `apiBaseUrl` decides where every call
 * and every page link goes, whatever the environment says.
 * A class over the SDK's RequestClient, so it is defined once the SDK is loaded.
 */
function defineRebasingRequestClient(sdk: SdkModule) {
  return class RebasingRequestClient extends sdk.RequestClient {
    private readonly root: URL | null;

    constructor(root: URL | null, opts: RequestClient.RequestClientOptions, httpProxy: boolean, outbound: OutboundPolicy | undefined) {
      super(opts);
      this.root = root;
      const guarded = outbound ? guardedNodeAgents(outbound) : null;
      // With HTTP_PROXY set the SDK tunnels through https-proxy-agent: keep that one (the proxy
      // then decides where requests may go).
      if (!httpProxy) this.axios.defaults.httpsAgent = guarded?.https ?? sharedHttpsAgent;
      this.axios.defaults.httpAgent = guarded?.http ?? sharedHttpAgent;
      // Never follow a redirect: every request goes to the vetted root only.
      this.axios.defaults.maxRedirects = 0;
    }

    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      return super.request<TData>({ ...opts, uri: rebaseTwilioUri(opts.uri, this.root) });
    }
  };
}
let RebasingRequestClient: ReturnType<typeof defineRebasingRequestClient> | null = null;

/**
 * Where one SDK request goes, per host. Twilio's products live on their own hosts
 * (api.twilio.com/2010-04-01/…, messaging.twilio.com/v1/Services/…):
 * - default root (null): each call keeps its product host, minus any region/edge labels the
 *   environment added (api.sydney.au1.twilio.com → api.twilio.com), so TWILIO_* variables
 *   never redirect a tenant's calls;
 * - overridden root (a Twilio-compatible API, the tests' fake): every Twilio host maps onto it,
 *   keeping the path, which tells the products apart (/2010-04-01 vs /v1/Services).
 */
export function rebaseTwilioUri(uri: string, root: URL | null): string {
  const original = new URL(uri);
  if (!original.hostname.endsWith('.twilio.com')) return uri;
  if (root === null) {
    const product = original.hostname.split('.')[0];
    return `https://${product}.twilio.com${original.pathname}${original.search}`;
  }
  const prefix = root.pathname.replace(/\/+$/, '');
  return `${root.origin}${prefix}${original.pathname}${original.search}`;
}

export function createTwilioApi(creds: TwilioCredentials, opts: TwilioApiOptions = {}): TwilioApi {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { accountSid } = creds;

  // Construction errors (a SID not starting with AC, a bad root) surface as a rejected call
  // rather than a synchronous throw, so callers have one error path.
  // The SDK client is built by the first call that needs it: the direct message path never does.
  let client: SdkClient | null = null;
  let buildClient: (() => SdkClient) | null = null;
  let setupError: TwilioApiError | null = null;
  /** The message create's direct path (undici keep-alive pool); null behind HTTP_PROXY (the SDK's proxy agent). */
  let direct: { url: string; authorization: string; dispatcher: ReturnType<typeof messagesDispatcher> } | null = null;
  try {
    // The SDK would silently fall back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN from the
    // environment: in a multi-tenant process that would be someone else's account.
    if (!accountSid || !creds.authToken) {
      throw new TwilioApiError('Twilio credentials are incomplete (account SID and auth token are required)', {
        kind: 'unexpected',
        status: null,
        code: null,
      });
    }
    const parsedRoot = parseRoot(creds.apiBaseUrl);
    const refused = opts.outbound ? refuseUrl(parsedRoot, opts.outbound) : null;
    if (refused) {
      throw new TwilioApiError(`Twilio API base URL refused: it ${refused}`, { kind: 'unexpected', status: null, code: null });
    }
    // The SDK's constructor refuses any other SID; checked here, where the client used to be
    // built, so every call (the direct path too) still fails alike for such a SID.
    checkAccountSidLikeSdk(accountSid);
    // Only an overridden root is imposed on every host (see rebaseTwilioUri).
    const root = parsedRoot.origin === DEFAULT_TWILIO_API_BASE_URL && parsedRoot.pathname === '/' ? null : parsedRoot;
    buildClient = () => {
      const sdk = twilioSdk();
      RebasingRequestClient ??= defineRebasingRequestClient(sdk);
      return sdk(accountSid, creds.authToken, {
        // TWILIO_LOG_LEVEL=debug would make the SDK print message bodies (and phone numbers).
        logLevel: 'none',
        // With a custom httpClient the client's own timeout/autoRetry options are ignored: they
        // only configure the RequestClient it would have built. So they are set here.
        // Our outbox owns retries; the SDK retrying 429s inside a send would hide them from it
        // and stretch the call past our timeout.
        httpClient: new RebasingRequestClient(root, { timeout: timeoutMs, autoRetry: false }, opts.httpProxy ?? false, opts.outbound),
      });
    };
    if (!opts.httpProxy) {
      direct = {
        url: messagesUrl(root, accountSid),
        authorization: `Basic ${Buffer.from(`${accountSid}:${creds.authToken}`).toString('base64')}`,
        dispatcher: messagesDispatcher(opts.outbound),
      };
    }
  } catch (err) {
    setupError = asSetupError(err);
  }

  async function call<T>(fn: (c: SdkClient) => Promise<T>): Promise<T> {
    if (setupError) throw setupError;
    if (!client) {
      try {
        client = buildClient!();
      } catch (err) {
        setupError = asSetupError(err);
        throw setupError;
      }
    }
    const sdk = client;
    let timer: NodeJS.Timeout | undefined;
    // The SDK's timeout is a socket-inactivity timeout per request; this bounds the whole call
    // (all pages of a list included).
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TwilioApiError(`Twilio API did not answer within ${timeoutMs} ms`, {
              kind: 'timeout',
              status: null,
              code: null,
            }),
          ),
        timeoutMs,
      );
    });
    try {
      // Wrapped in an async arrow so a synchronous throw inside the SDK becomes a rejection.
      return await Promise.race([(async () => fn(sdk))(), deadline]);
    } catch (err) {
      throw toTwilioApiError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  const account = (c: SdkClient) => c.api.v2010.accounts(accountSid);

  return {
    fetchAccount: () =>
      call(async (c) => {
        const a = await account(c).fetch();
        return { sid: a.sid, status: a.status, friendlyName: a.friendlyName };
      }),

    findIncomingNumber: (e164) =>
      call(async (c) => {
        // An empty or partial filter would list (and page through) many numbers.
        if (!E164.test(e164)) return null;
        // Twilio's PhoneNumber filter matches partial numbers, hence the exact comparison.
        // Every page is read: with a full E.164 value the partial matches are few.
        const numbers = await account(c).incomingPhoneNumbers.list({ phoneNumber: e164, pageSize: 100 });
        const n = numbers.find((x) => x.phoneNumber === e164);
        if (!n) return null;
        return {
          sid: n.sid,
          phoneNumber: n.phoneNumber,
          smsUrl: n.smsUrl || null,
          smsApplicationSid: n.smsApplicationSid || null,
          smsCapable: n.capabilities?.sms === true,
        };
      }),

    findShortCode: (shortCode) =>
      call(async (c) => {
        if (!/^\d{3,8}$/.test(shortCode)) return null;
        // The filter matches patterns too: compare exactly.
        const codes = await account(c).shortCodes.list({ shortCode, pageSize: 100 });
        const found = codes.find((x) => x.shortCode === shortCode);
        return found ? { sid: found.sid, shortCode: found.shortCode } : null;
      }),

    updateIncomingNumberSmsUrl: (numberSid, smsUrl, smsFallbackUrl) =>
      call(async (c) => {
        await account(c)
          .incomingPhoneNumbers(numberSid)
          .update({ smsUrl, smsMethod: 'POST', ...(smsFallbackUrl ? { smsFallbackUrl, smsFallbackMethod: 'POST' } : {}) });
      }),

    fetchIncomingNumber: (numberSid) =>
      call(async (c) => {
        try {
          const n = await account(c).incomingPhoneNumbers(numberSid).fetch();
          return {
            sid: n.sid,
            phoneNumber: n.phoneNumber,
            smsUrl: n.smsUrl || null,
            smsFallbackUrl: n.smsFallbackUrl || null,
            smsApplicationSid: n.smsApplicationSid || null,
            smsCapable: n.capabilities?.sms === true,
          };
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
      }),

    updateIncomingNumber: (numberSid, settings) =>
      call(async (c) => {
        await account(c)
          .incomingPhoneNumbers(numberSid)
          .update({
            ...(settings.smsUrl !== undefined ? { smsUrl: settings.smsUrl } : {}),
            ...(settings.smsFallbackUrl !== undefined ? { smsFallbackUrl: settings.smsFallbackUrl } : {}),
          });
      }),

    fetchMessagingService: (serviceSid) =>
      call(async (c) => {
        try {
          const s = await c.messaging.v1.services(serviceSid).fetch();
          return {
            sid: s.sid,
            friendlyName: s.friendlyName,
            inboundRequestUrl: s.inboundRequestUrl || null,
            fallbackUrl: s.fallbackUrl || null,
            useInboundWebhookOnNumber: s.useInboundWebhookOnNumber === true,
          };
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
      }),

    listMessagingServiceSenders: (serviceSid) =>
      call(async (c) => {
        const service = c.messaging.v1.services(serviceSid);
        const [numbers, shortCodes] = await Promise.all([
          service.phoneNumbers.list({ pageSize: 1000 }),
          service.shortCodes.list({ pageSize: 1000 }),
        ]);
        return [...numbers.map((n) => n.phoneNumber), ...shortCodes.map((s) => s.shortCode)];
      }),

    updateMessagingService: (serviceSid, settings) =>
      call(async (c) => {
        await c.messaging.v1.services(serviceSid).update({ ...settings });
      }),

    createMessage: async (input) => {
      if (setupError) throw setupError;
      if (direct) {
        // The whole call bounded by timeoutMs, and the request really cancelled at the deadline.
        const signal = AbortSignal.timeout(timeoutMs);
        return postMessage(direct.dispatcher, direct.url, direct.authorization, input, signal, timeoutMs);
      }
      return call(async (c) => {
        const m = await account(c).messages.create({
          to: input.to,
          body: input.body,
          statusCallback: input.statusCallback,
          ...(input.from !== undefined ? { from: input.from } : {}),
          ...(input.messagingServiceSid !== undefined ? { messagingServiceSid: input.messagingServiceSid } : {}),
          ...(input.mediaUrl && input.mediaUrl.length > 0 ? { mediaUrl: input.mediaUrl } : {}),
        });
        return { sid: m.sid, status: m.status };
      });
    },

    listRecentMessages: (filter, limit) =>
      call(async (c) => {
        const page = await account(c).messages.list({ to: filter.to, from: filter.from, pageSize: limit, limit });
        return page.map((m) => ({ sid: m.sid, body: m.body ?? '', dateCreated: m.dateCreated ?? null }));
      }),

    deleteMessage: (messageSid) =>
      call(async (c) => {
        await account(c).messages(messageSid).remove();
      }),
  };
}

/** Construction errors surface as a rejected call rather than a synchronous throw, so callers have one error path. */
function asSetupError(err: unknown): TwilioApiError {
  return err instanceof TwilioApiError
    ? err
    : new TwilioApiError(`Cannot create a Twilio client: ${errorText(err)}`, {
        kind: 'unexpected',
        status: null,
        code: null,
      });
}

/** twilio-node's own check (BaseTwilio.setAccountSid), with its message. */
function checkAccountSidLikeSdk(accountSid: string): void {
  if (accountSid.startsWith('AC')) return;
  const apiKeyMsg = accountSid.startsWith('SK')
    ? '. The given SID indicates an API Key which requires the accountSid to be passed as an additional option'
    : '';
  throw new Error('accountSid must start with AC' + apiKeyMsg);
}

function isNotFound(err: unknown): boolean {
  return isObject(err) && err['status'] === 404;
}

function parseRoot(apiBaseUrl: string): URL {
  let root: URL;
  try {
    root = new URL(apiBaseUrl || DEFAULT_TWILIO_API_BASE_URL);
  } catch {
    throw new TwilioApiError(`Invalid Twilio API base URL: ${apiBaseUrl}`, {
      kind: 'unexpected',
      status: null,
      code: null,
    });
  }
  if (root.protocol !== 'https:' && root.protocol !== 'http:') {
    throw new TwilioApiError(`Twilio API base URL must be http(s): ${apiBaseUrl}`, {
      kind: 'unexpected',
      status: null,
      code: null,
    });
  }
  return root;
}

/** axios codes that mean we built a bad request, not that the network failed. */
const AXIOS_USAGE_CODES = new Set(['ERR_BAD_OPTION', 'ERR_BAD_OPTION_VALUE', 'ERR_INVALID_URL', 'ERR_NOT_SUPPORT', 'ERR_DEPRECATED']);

/**
 * Maps whatever the SDK threw. Deliberately does not keep the original as `cause` for network
 * errors: an AxiosError carries the request config, including the Authorization header, and a
 * logger serialising `cause` would print the tenant's credentials.
 */
export function toTwilioApiError(err: unknown): TwilioApiError {
  if (err instanceof TwilioApiError) return err;

  // RestException (legacy body: code, message, more_info, status) and TwilioServiceException
  // (RFC 9457 body: type, title, detail, code, status) both carry a numeric `status`; the
  // latter is not exported by the SDK, so recognise both by shape.
  const rest = asApiException(err);
  if (rest) {
    const codePart = rest.code !== null ? ` ${rest.code}` : '';
    return new TwilioApiError(`Twilio API error ${rest.status}${codePart}: ${rest.message}`, {
      kind: 'api',
      status: rest.status,
      code: rest.code,
      moreInfo: rest.moreInfo,
    });
  }

  if (isObject(err)) {
    const code = typeof err['code'] === 'string' ? err['code'] : null;
    if (err instanceof OutboundBlockedError || code === 'EOUTBOUNDBLOCKED' || (isObject(err['cause']) && err['cause'] instanceof OutboundBlockedError)) {
      // Permanent: the root resolves to an address we may not reach (retrying will not help).
      return new TwilioApiError('Twilio API base URL refused: it resolves to an address we may not connect to', {
        kind: 'unexpected',
        status: null,
        code: null,
      });
    }
    const message = typeof err['message'] === 'string' ? err['message'] : '';
    const fromAxios = err['isAxiosError'] === true;
    // Node system errors (ECONNREFUSED, ENOTFOUND...) and undici's, in case one escapes unwrapped.
    const systemError = code !== null && /^(E[A-Z0-9_]+|UND_ERR_[A-Z_]+)$/.test(code);
    if ((fromAxios && !(code && AXIOS_USAGE_CODES.has(code))) || systemError) {
      // axios reports its own timeout as ECONNABORTED "timeout of N ms exceeded" (ETIMEDOUT
      // with clarifyTimeoutError); a connect timeout from Node is ETIMEDOUT too.
      const timedOut = code === 'ETIMEDOUT' || (code === 'ECONNABORTED' && /timeout/i.test(message));
      return new TwilioApiError(
        timedOut ? `Twilio API timed out: ${message}` : `Twilio API unreachable: ${code ?? 'ERR_NETWORK'} ${message}`.trim(),
        { kind: timedOut ? 'timeout' : 'network', status: null, code: null },
      );
    }
  }

  return new TwilioApiError(`Twilio API call failed: ${errorText(err)}`, {
    kind: 'unexpected',
    status: null,
    code: null,
    // Keep a programming error's stack for the logs, but never an axios error (credentials).
    ...(isObject(err) && err['isAxiosError'] === true ? {} : { cause: err }),
  });
}

interface ApiExceptionShape {
  status: number;
  code: number | null;
  message: string;
  moreInfo: string | null;
}

function asApiException(err: unknown): ApiExceptionShape | null {
  if (!isObject(err) || typeof err['status'] !== 'number') return null;
  // Only the SDK throws its RestException: if it was never loaded, this is not one (and mapping
  // an error of the direct send path must not load 0.3-0.4 s of SDK on the dispatcher).
  const isRest = sdkModule !== null && err instanceof sdkModule.RestException;
  const isService = typeof err['title'] === 'string' && typeof err['code'] === 'number';
  if (!isRest && !isService) return null;
  const status = err['status'];
  // TwilioServiceException uses 0 when the body had no code.
  const code = typeof err['code'] === 'number' && err['code'] !== 0 ? err['code'] : null;
  // RestException sets message to the body's `message`, which is undefined when Twilio's body
  // had none (e.g. an HTML 502 from a proxy is parsed as non-JSON and gives the generic text).
  const message =
    (typeof err['detail'] === 'string' && err['detail']) ||
    (typeof err['message'] === 'string' && err['message']) ||
    (typeof err['title'] === 'string' && err['title']) ||
    `HTTP ${status}`;
  const moreInfo =
    typeof err['moreInfo'] === 'string' ? err['moreInfo'] : typeof err['type'] === 'string' ? err['type'] : null;
  return { status, code, message, moreInfo };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

