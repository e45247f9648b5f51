import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';

/**
 * Signed links to our stored files (uploads sent as MMS, copies of inbound media):
 * /media/files/<tenant>/<file>?expires=<unix s>&signature=<HMAC>. The link is the authorisation
 * (Twilio fetches it with HEAD and GET, browsers in <img>), it is unguessable (the file id is a
 * random uuid and the HMAC covers tenant, file and expiry) and it expires. Its own key, derived
 * from JWT_SECRET for this purpose alone.
 */
export const MEDIA_FILES_ROUTE_PREFIX = '/media/files';

const keys = new WeakMap<Config, Buffer>();

function keyFor(config: Config): Buffer {
  let key = keys.get(config);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', config.jwtSecret, 'sms-inbox', 'media-files-v1', 32));
    keys.set(config, key);
  }
  return key;
}

function mac(config: Config, tenantId: string, fileId: string, expires: number): string {
  return createHmac('sha256', keyFor(config)).update(`file/${tenantId}/${fileId}/${expires}`).digest('base64url');
}

// Rounded up to the minute so the same file read twice within a minute has one URL (caching).
const ROUND_SECONDS = 60;

export function signMediaFileLink(config: Config, tenantId: string, fileId: string, ttlSeconds: number, nowMs = Date.now()): string {
  const expires = Math.ceil((nowMs / 1000 + ttlSeconds) / ROUND_SECONDS) * ROUND_SECONDS;
  return `${config.publicUrl}${MEDIA_FILES_ROUTE_PREFIX}/${tenantId}/${fileId}?expires=${expires}&signature=${mac(config, tenantId, fileId, expires)}`;
}

export function verifyMediaFileLink(
  config: Config,
  tenantId: string,
  fileId: string,
  expiresRaw: string | undefined,
  signature: string | undefined,
  nowMs = Date.now(),
): 'ok' | 'expired' | 'bad-signature' {
  if (!expiresRaw || !/^\d{1,12}$/.test(expiresRaw) || !signature) return 'bad-signature';
  const expires = Number(expiresRaw);
  const expected = Buffer.from(mac(config, tenantId, fileId, expires));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
  return expires * 1000 > nowMs ? 'ok' : 'expired';
}
