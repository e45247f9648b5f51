import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookAccount } from '../modules/twilio-accounts/account-cache.js';
import { InboundService } from '../modules/inbound/inbound.service.js';
import { WebhookInputError, param, type WebhookParams } from '../modules/inbound/webhook-params.js';
import { isWellFormedWebhookKey } from '../modules/twilio-accounts/credentials.js';
import type { AppDeps } from '../shared/deps.js';
import { replaceNul } from '../graphql/nul-guard.js';
import { isValidTwilioJsonSignature, isValidTwilioSignature } from '../twilio/signature.js';

/** No reply to the customer. Never an error text: Twilio would text it to them. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

type WebhookKind = 'sms' | 'status';

interface WebhookRoute {
  Params: { key: string };
  Querystring: Record<string, string | string[] | undefined>;
  Body: string | undefined;
}

/**
 * Twilio's webhooks (per-account URLs: /webhooks/twilio/<key>/sms and /status). They live in an encapsulated plugin: their body parsers (raw strings, as
 * the signature is computed over the exact parameters) and their error answers do not touch
 * the GraphQL endpoint.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    const keepRaw = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) =>
      done(null, typeof body === 'string' ? body : body.toString('utf8'));
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, keepRaw);
    // Twilio's JSON webhooks are signed over the raw body (bodySHA256): keep it unparsed too.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, keepRaw);

    // Body too large (413), unsupported type (415)...: a short text; 5xx are logged.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
      if (status >= 500) request.log.error({ err: error }, 'webhook failed');
      return reply.code(status).type('text/plain').send(status === 503 ? 'Service unavailable' : error.message);
    });

    const bodyLimit = deps.config.webhookBodyLimitBytes;
    scope.post<WebhookRoute>('/webhooks/twilio/:key/sms', { bodyLimit }, (request, reply) => handle('sms', request, reply));
    scope.post<WebhookRoute>('/webhooks/twilio/:key/status', { bodyLimit }, (request, reply) => handle('status', request, reply));
  });

  async function handle(kind: WebhookKind, request: FastifyRequest<WebhookRoute>, reply: FastifyReply) {
    const text = (status: number, message: string) => reply.code(status).type('text/plain').send(message);
    const { key } = request.params;
    if (!isWellFormedWebhookKey(key)) return text(404, 'Unknown webhook');

    let account: WebhookAccount | null;
    try {
      account = await deps.accountCache.get(key);
    } catch (err) {
      request.log.error({ err }, 'webhook account lookup failed');
      return text(503, 'Service unavailable');
    }
    if (!account) return text(404, 'Unknown webhook');
    // Context passed per line rather than through a child logger: most requests log nothing.
    const log = request.log;
    const where = { tenantId: account.tenantId, twilioAccountId: account.id, webhook: kind };

    // The exact URL we advertised: PUBLIC_URL + the path and query as received, never the Host header.
    const url = deps.config.publicUrl + request.url;
    const signature = request.headers['x-twilio-signature'];
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const isJson = (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
    const sig = typeof signature === 'string' ? signature : undefined;

    let params: WebhookParams;
    if (isJson) {
      if (!isValidTwilioJsonSignature(account.authToken, sig, url, rawBody)) return forbidden('bad or missing signature');
      const parsed = parseJsonParams(rawBody);
      if (!parsed) return text(400, 'Body is not a JSON object');
      params = parsed;
    } else {
      params = parseForm(rawBody);
      if (!isValidTwilioSignature(account.authToken, sig, url, params)) return forbidden('bad or missing signature');
    }
    // Signature checked over the exact values; stored with any NUL replaced (Postgres text
    // cannot hold it, and a 503 would make Twilio retry a message that can never be stored).
    params = withoutNul(params);
    // Signed by this account's token but for another account: not ours to store.
    if (param(params, 'AccountSid') !== account.accountSid) return forbidden('AccountSid does not match the account');

    const service = new InboundService(deps, account, log);
    try {
      if (kind === 'sms') {
        await service.receiveMessage(params);
      } else {
        const messageId = request.query['messageId'];
        await service.receiveStatus(params, typeof messageId === 'string' ? messageId : null);
      }
    } catch (err) {
      if (err instanceof WebhookInputError) {
        log.warn({ ...where, reason: err.message }, 'malformed webhook');
        return text(400, err.message);
      }
      // Nothing was stored (one statement): 503 makes Twilio use the number's fallback URL.
      log.error({ ...where, err }, 'webhook could not be stored');
      return text(503, 'Service unavailable');
    }
    return reply.code(200).type('text/xml').send(EMPTY_TWIML);

    function forbidden(reason: string) {
      log.warn({ ...where, reason }, 'webhook refused');
      return text(403, 'Forbidden');
    }
  }
}

function withoutNul(params: WebhookParams): WebhookParams {
  const out: WebhookParams = {};
  for (const [k, v] of Object.entries(params)) out[replaceNul(k)] = Array.isArray(v) ? v.map(replaceNul) : replaceNul(v as string);
  return out;
}

/** Repeated names (rare, but signed) become arrays, as the signature computation expects. */
function parseForm(raw: string): WebhookParams {
  const out: WebhookParams = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Top-level scalars of a JSON object as strings; null when the body is not an object. */
function parseJsonParams(raw: string): WebhookParams | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const out: WebhookParams = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
  }
  return out;
}
