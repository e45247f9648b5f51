import { createHash, randomBytes } from 'node:crypto';

export const LIVE_PREFIX = 'sk_live_';
export const SANDBOX_PREFIX = 'sk_sandbox_';
/** Characters of the random part shown in `prefix`. */
const SHOWN_RANDOM_CHARS = 4;

export interface NewSecret {
  secret: string;
  prefix: string;
  hash: string;
}

/** 32 random bytes (base64url) behind a prefix that says what it is and in which mode it was made. */
export function newSecret(sandbox: boolean): NewSecret {
  const head = sandbox ? SANDBOX_PREFIX : LIVE_PREFIX;
  const secret = head + randomBytes(32).toString('base64url');
  return { secret, prefix: secret.slice(0, head.length + SHOWN_RANDOM_CHARS), hash: hashSecret(secret) };
}

/** A plain hash suffices: the secret has 256 bits of entropy, so no dictionary or brute force applies. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether a bearer credential looks like an API key rather than a session token (JWT). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(LIVE_PREFIX) || token.startsWith(SANDBOX_PREFIX);
}
