import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../shared/deps.js';
import { twilioCredentials } from '../twilio-accounts/credentials.js';
import { isUuid } from '../../shared/ids.js';
import { MEDIA_ROUTE_PREFIX } from './media-links.js';
import { MediaFetchError, fetchTwilioMedia, type MediaResponse } from './media-proxy.js';
import { TenantContext } from '../../tenant-context.js';

interface MediaParams {
  tenantId: string;
  messageId: string;
  index: string;
}

interface MediaQuery {
  expires?: string;
  signature?: string;
}

// Shown in the page itself only for these; anything else (HTML, SVG with scripts, PDF...) is a
// download, so a customer's file can never run as a page of our origin.
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|bmp|heic|heif)|audio\/[\w.+-]+|video\/[\w.+-]+)$/i;

/** GET /media/<tenant>/<message>/<index>?expires&signature: a signed link made by the Message.media field. */
export function registerMediaRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: MediaParams; Querystring: MediaQuery }>(
    `${MEDIA_ROUTE_PREFIX}/:tenantId/:messageId/:index`,
    async (request, reply) => {
      const { tenantId, messageId } = request.params;
      const index = /^\d{1,2}$/.test(request.params.index) ? Number(request.params.index) : -1;
      if (!isUuid(tenantId) || !isUuid(messageId) || index < 0) return reply.code(404).type('text/plain').send('Not found');

      const ref = { tenantId, messageId, index };
      const check = deps.mediaLinks.verify(ref, request.query.expires, request.query.signature);
      if (check !== 'ok') {
        return reply
          .code(403)
          .type('text/plain')
          .send(check === 'expired' ? 'This media link has expired; reload the conversation' : 'Invalid media link');
      }

      const source = await new TenantContext(deps, tenantId, null).media.findInboundMedia(messageId, index);
      if (!source) return reply.code(404).type('text/plain').send('Not found');

      let upstream: MediaResponse;
      try {
        upstream = await fetchTwilioMedia(
          source.media.url,
          twilioCredentials(deps.secretBox, source.account),
          deps.config.twilioTimeoutMs,
          deps.config.outbound,
        );
      } catch (err) {
        const status = err instanceof MediaFetchError ? err.httpStatus : 502;
        request.log.warn({ tenantId, messageId, index, reason: err instanceof Error ? err.message : String(err) }, 'media fetch failed');
        return reply.code(status).type('text/plain').send(status === 404 ? 'Media no longer available' : 'Media unavailable');
      }

      const contentType = upstream.headers.get('content-type') || source.media.contentType || 'application/octet-stream';
      const length = upstream.headers.get('content-length');
      reply
        .code(200)
        .header('content-type', contentType)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('content-disposition', INLINE_TYPES.test(contentType.split(';')[0]!.trim()) ? 'inline' : 'attachment')
        .header('cache-control', 'private, max-age=300');
      if (length && /^\d+$/.test(length)) reply.header('content-length', length);
      if (!upstream.body) return reply.send('');
      return reply.send(Readable.fromWeb(upstream.body as unknown as NodeWebReadableStream<Uint8Array>));
    },
  );
}
