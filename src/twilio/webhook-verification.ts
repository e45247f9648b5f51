/**
 * Twilio webhook verification in one place: the body parsed as Twilio sent it (form or JSON),
 * X-Twilio-Signature checked against the URL we advertised under the account's token (or, during
 * a token rotation, its previous one), NULs replaced after the check, and the AccountSid matched.
 * The webhook routes use it as a Fastify preHandler; the handler then only reads the verified
 * webhook (`verifiedTwilioWebhook`). Answers, in order: 404 unknown key, 503 lookup failed,
 * 403 bad or missing signature, 400 JSON body not an object, 403 AccountSid of another account.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { replaceNul } from '../graphql/nul-guard.js';
import { isValidTwilioJsonSignature, isValidTwilioSignature, type TwilioParams } from './signature.js';

/** What verification needs of the account a webhook URL's key names. */
export interface SigningAccount {
  id: string;
  tenantId: string;
  accountSid: string;
  authToken: string;
  /** After a rotation: the old token, accepted until `previousTokenExpiresAt` (ms) and until the new one is proven. */
  previousAuthToken: string | null;
  previousTokenExpiresAt: number | null;
}

/** Where the verifier finds accounts; implemented over the app's account cache by the routes. */
export interface SigningAccounts<A extends SigningAccount> {
  isWellFormedKey(key: string): boolean;
  /** Cached lookup by webhook key. */
  get(key: string): Promise<A | null>;
  /** The database row, bypassing the cache (used only while a rotation's old token is presented). */
  fresh(key: string): Promise<A | null>;
  /** The first webhook signed with the new token: the old one is refused from now on. */
  newTokenProven(account: A, key: string): Promise<void>;
}

export interface VerifiedTwilioWebhook<A extends SigningAccount> {
  account: A;
  /** The signed parameters, NULs replaced (Postgres text cannot hold them). */
  params: TwilioParams;
}

export interface WebhookRequestShape {
  Params: { key: string };
  Body: string | undefined;
}

const verified = new WeakMap<FastifyRequest, VerifiedTwilioWebhook<SigningAccount>>();

/** The webhook the preHandler verified for this request (the handler runs only after it did). */
export function verifiedTwilioWebhook<A extends SigningAccount>(request: FastifyRequest): VerifiedTwilioWebhook<A> {
  const webhook = verified.get(request);
  if (!webhook) throw new Error('Twilio webhook not verified: register the preHandler on this route');
  return webhook as VerifiedTwilioWebhook<A>;
}

/**
 * A preHandler verifying a Twilio webhook posted to `<route with :key>`; the body must reach it
 * unparsed (a raw string). `publicUrl()` (read per request: it is known once the port is bound) + the path and query as received is the signed URL, never
 * the Host header. `kind` names the webhook in logs.
 */
export function twilioWebhookPreHandler<A extends SigningAccount>(opts: { publicUrl: () => string; kind: string; accounts: SigningAccounts<A> }) {
  const { accounts } = opts;
  return async function verifyTwilioWebhook(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const text = (status: number, message: string) => reply.code(status).type('text/plain').send(message);
    const { key } = request.params as { key: string };
    if (!accounts.isWellFormedKey(key)) return text(404, 'Unknown webhook');

    let account: A | null;
    try {
      account = await accounts.get(key);
    } catch (err) {
      request.log.error({ err }, 'webhook account lookup failed');
      return text(503, 'Service unavailable');
    }
    if (!account) return text(404, 'Unknown webhook');
    const forbidden = (reason: string) => {
      // Context passed per line rather than through a child logger: most requests log nothing.
      request.log.warn({ tenantId: account.tenantId, twilioAccountId: account.id, webhook: opts.kind, reason }, 'webhook refused');
      return text(403, 'Forbidden');
    };

    const url = opts.publicUrl() + request.url;
    const header = request.headers['x-twilio-signature'];
    const signature = typeof header === 'string' ? header : undefined;
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const isJson = (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');

    let params: TwilioParams;
    let signedBy: (token: string) => boolean;
    if (isJson) {
      // Twilio's JSON scheme signs the URL with the body's hash: check before parsing.
      signedBy = (token) => isValidTwilioJsonSignature(token, signature, url, rawBody);
      if (!signedBy(account.authToken) && !(await signedByPreviousToken(account, key, signedBy))) return forbidden('bad or missing signature');
      const parsed = parseJsonParams(rawBody);
      if (!parsed) return text(400, 'Body is not a JSON object');
      params = parsed;
    } else {
      const form = parseTwilioForm(rawBody);
      signedBy = (token) => isValidTwilioSignature(token, signature, url, form);
      if (!signedBy(account.authToken) && !(await signedByPreviousToken(account, key, signedBy))) return forbidden('bad or missing signature');
      params = form;
    }
    if (account.previousAuthToken !== null && signedBy(account.authToken)) await accounts.newTokenProven(account, key);
    // Signature checked over the exact values; stored with any NUL replaced (Postgres text
    // cannot hold it, and a 503 would make Twilio retry a message that can never be stored).
    params = withoutNul(params);
    // Signed by this account's token but for another account: not ours to store.
    const accountSid = params['AccountSid'];
    if ((Array.isArray(accountSid) ? accountSid[0] : accountSid) !== account.accountSid) return forbidden('AccountSid does not match the account');
    verified.set(request, { account, params });
    return undefined;
  };

  /**
   * After a rotation, a webhook signed with the old token is accepted while the grace period
   * runs and no webhook has yet come signed with the new one. Checked again on the database
   * row (rare: only during a rotation), so another instance's cache cannot stretch it.
   */
  async function signedByPreviousToken(account: A, key: string, signedBy: (token: string) => boolean): Promise<boolean> {
    if (account.previousAuthToken === null || (account.previousTokenExpiresAt ?? 0) <= Date.now()) return false;
    if (!signedBy(account.previousAuthToken)) return false;
    const current = await accounts.fresh(key);
    return current !== null && current.previousAuthToken === account.previousAuthToken && (current.previousTokenExpiresAt ?? 0) > Date.now();
  }
}

function withoutNul(params: TwilioParams): TwilioParams {
  // The hot path: no copy unless a NUL is there.
  const hasNul = Object.entries(params).some(([k, v]) => k.includes('\u0000') || (Array.isArray(v) ? v.some((x) => x.includes('\u0000')) : v.includes('\u0000')));
  if (!hasNul) return params;
  const out: TwilioParams = {};
  for (const [k, v] of Object.entries(params)) out[replaceNul(k)] = Array.isArray(v) ? v.map(replaceNul) : replaceNul(v);
  return out;
}

/** A form body as Twilio signs it: repeated names (rare, but signed) become arrays. */
export function parseTwilioForm(raw: string): TwilioParams {
  const out: TwilioParams = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Top-level scalars of a JSON object as strings; null when the body is not an object. */
function parseJsonParams(raw: string): TwilioParams | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const out: TwilioParams = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
  }
  return out;
}
