import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived signed links to inbound media, served by GET /media/... (which proxies Twilio with
 * the account's credentials). The link itself is the authorisation: it works in an <img> tag,
 * where no bearer token can be sent, and it expires. Only our server can make one: the HMAC key
 * is derived from JWT_SECRET for this purpose alone.
 */
export interface MediaRef {
  tenantId: string;
  messageId: string;
  index: number;
}

export const MEDIA_ROUTE_PREFIX = '/media';

// Expiry rounded up to the minute: the same message read twice within a minute gets the same
// URL, so browsers can cache the image.
const ROUND_SECONDS = 60;

export type MediaLinkCheck = 'ok' | 'expired' | 'bad-signature';

/** Signs and checks media links; one per running app (AppDeps.mediaLinks), built in src/app.ts. */
export class MediaLinkSigner {
  private readonly key: Buffer;

  constructor(
    jwtSecret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, 'sms-inbox', 'media-links-v1', 32));
  }

  /** A link under `publicUrl` (the server's advertised base, known only once it listens). */
  sign(publicUrl: string, ref: MediaRef, nowMs = Date.now()): string {
    const expires = Math.ceil((nowMs / 1000 + this.ttlSeconds) / ROUND_SECONDS) * ROUND_SECONDS;
    const path = `${MEDIA_ROUTE_PREFIX}/${ref.tenantId}/${ref.messageId}/${ref.index}`;
    return `${publicUrl}${path}?expires=${expires}&signature=${this.mac(ref, expires)}`;
  }

  verify(ref: MediaRef, expiresRaw: string | undefined, signature: string | undefined, nowMs = Date.now()): MediaLinkCheck {
    if (!expiresRaw || !/^\d{1,12}$/.test(expiresRaw) || !signature) return 'bad-signature';
    const expires = Number(expiresRaw);
    const expected = Buffer.from(this.mac(ref, expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    // Checked after the signature, so an expiry pushed forward by hand fails as a bad signature.
    return expires * 1000 > nowMs ? 'ok' : 'expired';
  }

  private mac(ref: MediaRef, expires: number): string {
    return createHmac('sha256', this.key).update(`${ref.tenantId}/${ref.messageId}/${ref.index}/${expires}`).digest('base64url');
  }
}
