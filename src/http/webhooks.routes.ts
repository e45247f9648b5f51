import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookAccount } from '../modules/twilio-accounts/account-cache.js';
import { InboundService } from '../modules/inbound/inbound.service.js';
import { WebhookInputError } from '../modules/inbound/webhook-params.js';
import { isWellFormedWebhookKey } from '../modules/twilio-accounts/credentials.js';
import { TenantContext } from '../tenant-context.js';
import type { AppDeps } from '../shared/deps.js';
import { parseTwilioForm, twilioWebhookPreHandler, verifiedTwilioWebhook, type SigningAccounts } from '../twilio/webhook-verification.js';

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
  // The accounts webhook URLs name, as the verifier sees them (src/twilio/webhook-verification.ts).
  const accounts: SigningAccounts<WebhookAccount> = {
    isWellFormedKey: isWellFormedWebhookKey,
    get: (key) => deps.accountCache.get(key),
    fresh: (key) => deps.accountCache.fresh(key),
    async newTokenProven(account, key) {
      await new TenantContext(deps, account.tenantId, null).twilioAccounts.clearPreviousToken(account.id);
      deps.accountCache.invalidate(key);
    },
  };
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
    const verified = (kind: WebhookKind) => ({ bodyLimit, preHandler: twilioWebhookPreHandler({ publicUrl: () => deps.config.publicUrl, kind, accounts }) });
    scope.post<WebhookRoute>('/webhooks/twilio/:key/sms', verified('sms'), (request, reply) => handle('sms', request, reply));
    scope.post<WebhookRoute>('/webhooks/twilio/:key/status', verified('status'), (request, reply) => handle('status', request, reply));
    scope.post<WebhookRoute>('/webhooks/twilio/:key/fallback', { bodyLimit }, (request, reply) => handleFallback(request, reply));
  });

  /** Twilio's SmsFallbackUrl: works from memory and a local spool when the database is down. */
  async function handleFallback(request: FastifyRequest<WebhookRoute>, reply: FastifyReply) {
    const { key } = request.params;
    if (!isWellFormedWebhookKey(key)) return reply.code(404).type('text/plain').send('Unknown webhook');
    const signature = request.headers['x-twilio-signature'];
    const answer = await deps.fallback.handle({
      webhookKey: key,
      url: deps.config.publicUrl + request.url,
      signature: typeof signature === 'string' ? signature : undefined,
      params: parseTwilioForm(typeof request.body === 'string' ? request.body : ''),
    });
    if ('twiml' in answer) return reply.code(200).type('text/xml').send(answer.twiml);
    return reply.code(answer.status).type('text/plain').send(answer.text);
  }

  /** Runs after the preHandler verified the webhook (signature, account, AccountSid). */
  async function handle(kind: WebhookKind, request: FastifyRequest<WebhookRoute>, reply: FastifyReply) {
    const { account, params } = verifiedTwilioWebhook<WebhookAccount>(request);
    const text = (status: number, message: string) => reply.code(status).type('text/plain').send(message);
    const log = request.log;
    const where = { tenantId: account.tenantId, twilioAccountId: account.id, webhook: kind };
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
  }
}

