import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppDeps } from '../../shared/deps.js';
import { isUuid } from '../../shared/ids.js';
import { isApiKey, userIdOf } from '../../shared/principal.js';
// The caller of an upload is proven exactly as for GraphQL: an API key (checked in the database,
// so a revoked key stops at once) or a live session.
import { authenticate } from '../../graphql/authenticate.js';
import { MEDIA_FILES_ROUTE_PREFIX } from './media-file-links.js';
import { TenantContext } from '../../tenant-context.js';
import { saveMediaFile } from './media-files.service.js';
import { sniffMmsType } from './media-types.js';

// Shown in the page itself only for these; anything else is a download, so an uploaded or
// received file can never run as a page of our origin.
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|bmp)|audio\/[\w.+-]+|video\/[\w.+-]+)$/i;

/**
 * POST /media: an agent's attachment (multipart, one file, Bearer session token or API key) → 201 { id, contentType, size }.
 * GET|HEAD /media/files/<tenant>/<file>?expires&signature: the file, by signed link.
 */
export async function registerMediaFileRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const maxBytes = deps.config.media.uploadMaxBytes;

  // Encapsulated: the multipart parser serves this route only, never /graphql.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 11 } });
    scope.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'media upload failed');
      const message =
        status === 413 ? `The file is larger than ${maxBytes} bytes (Twilio sends at most 5 MB per message)` : status >= 500 ? 'Internal error' : error.message;
      return reply.code(status).send({ error: message });
    });

    scope.post(
      '/media',
      // The whole request may not be much more than the file (form overhead).
      { bodyLimit: maxBytes + 64 * 1024 },
      async (request, reply) => {
        const auth = await authenticate(deps, request.headers.authorization);
        if (!auth) return reply.code(401).send({ error: 'Authentication required: Authorization: Bearer <token or API key>' });
        if (!request.isMultipart()) return reply.code(415).send({ error: 'Send the file as multipart/form-data' });
        const part = await request.file();
        if (!part) return reply.code(400).send({ error: 'No file in the form' });
        // Throws 413 (RequestFileTooLargeError) past the limit.
        const bytes = await part.toBuffer();
        const sniffed = await sniffMmsType(bytes, part.mimetype, part.filename);
        if (!sniffed.ok) return reply.code(415).send({ error: sniffed.reason });
        const file = await saveMediaFile(deps, auth.tenantId, {
          origin: 'UPLOAD',
          contentType: sniffed.contentType,
          bytes,
          createdBy: userIdOf(auth),
        });
        const by = isApiKey(auth) ? { apiKeyId: auth.apiKeyId } : { userId: auth.userId };
        request.log.info({ tenantId: auth.tenantId, ...by, mediaId: file.id, size: file.size, contentType: file.contentType }, 'media uploaded');
        return reply.code(201).send({ id: file.id, contentType: file.contentType, size: file.size });
      },
    );
  });

  // Fastify answers HEAD from this GET route too (same headers, no body): Twilio checks with HEAD.
  app.get<{ Params: { tenantId: string; fileId: string }; Querystring: { expires?: string; signature?: string } }>(
    `${MEDIA_FILES_ROUTE_PREFIX}/:tenantId/:fileId`,
    async (request, reply) => {
      const { tenantId, fileId } = request.params;
      if (!isUuid(tenantId) || !isUuid(fileId)) return reply.code(404).type('text/plain').send('Not found');
      const check = deps.mediaFileLinks.verify(tenantId, fileId, request.query.expires, request.query.signature);
      if (check !== 'ok') {
        return reply.code(403).type('text/plain').send(check === 'expired' ? 'This media link has expired' : 'Invalid media link');
      }
      return serveMediaFile(deps, reply, tenantId, fileId);
    },
  );
}

/** Sends one stored file of the tenant (the caller has authorised the request), or 404. */
export async function serveMediaFile(deps: AppDeps, reply: FastifyReply, tenantId: string, fileId: string): Promise<FastifyReply> {
  const file = await new TenantContext(deps, tenantId, null).mediaFiles.findWithBytes(fileId);
  const bytes = file ? await deps.mediaStore.read(file) : null;
  if (!file || !bytes) return reply.code(404).type('text/plain').send('Not found');
  return reply
    .code(200)
    .header('content-type', file.contentType)
    .header('content-length', String(bytes.length))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('content-disposition', INLINE_TYPES.test(file.contentType) ? 'inline' : 'attachment')
    .header('cache-control', 'private, max-age=300')
    .send(bytes);
}
