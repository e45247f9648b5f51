import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Signed links to our stored files (uploads sent as MMS, copies of inbound media):
 * /media/files/<tenant>/<file>?expires=<unix s>&signature=<HMAC>. The link is the authorisation
 * (Twilio fetches it with HEAD and GET, browsers in <img>), it is unguessable (the file id is a
 * random uuid and the HMAC covers tenant, file and expiry) and it expires. Its own key, derived
 * from JWT_SECRET for this purpose alone. One per running app: AppDeps.mediaFileLinks.
 */
export const MEDIA_FILES_ROUTE_PREFIX = '/media/files';

// Rounded up to the minute so the same file read twice within a minute has one URL (caching).
const ROUND_SECONDS = 60;

export class MediaFileLinkSigner {
  private readonly key: Buffer;

  constructor(jwtSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, 'sms-inbox', 'media-files-v1', 32));
  }

  sign(publicUrl: string, tenantId: string, fileId: string, ttlSeconds: number, nowMs = Date.now()): string {
    const expires = Math.ceil((nowMs / 1000 + ttlSeconds) / ROUND_SECONDS) * ROUND_SECONDS;
    return `${publicUrl}${MEDIA_FILES_ROUTE_PREFIX}/${tenantId}/${fileId}?expires=${expires}&signature=${this.mac(tenantId, fileId, expires)}`;
  }

  verify(tenantId: string, fileId: string, expiresRaw: string | undefined, signature: string | undefined, nowMs = Date.now()): 'ok' | 'expired' | 'bad-signature' {
    if (!expiresRaw || !/^\d{1,12}$/.test(expiresRaw) || !signature) return 'bad-signature';
    const expires = Number(expiresRaw);
    const expected = Buffer.from(this.mac(tenantId, fileId, expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    return expires * 1000 > nowMs ? 'ok' : 'expired';
  }

  private mac(tenantId: string, fileId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`file/${tenantId}/${fileId}/${expires}`).digest('base64url');
  }
}
