import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** Verified tokens kept (about 0.5 kB each): more than the sessions one instance serves at once. */
export const VERIFIED_CACHE_SIZE = 10_000;

interface TokenClaims {
  sub: string;
  tid: string;
  sid: string;
}

/** What a verified token says; whether its session is still live is the SessionAuthenticator's call. */
export interface TokenClaimsVerified {
  userId: string;
  tenantId: string;
  sessionId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * HS256 JWTs naming user, tenant and session; verification pins the algorithm. The role is not
 * in the token: it is read from the user's row, so a demotion takes effect at once.
 */
export class TokenService {
  /**
   * Built once: given a string, jsonwebtoken first tries it as a PEM public key
   * (crypto.createPublicKey) on every verify, ~0.7 ms of CPU on each authenticated request.
   */
  private readonly key: KeyObject;
  /**
   * Tokens that verified, with their claims, so a client's next requests skip the JWS parse and
   * HMAC (~0.05 ms, 3% of the server's CPU per sendMessage). Only good tokens enter (a flood of
   * bad ones costs what it did); a hit is re-checked for expiry exactly as jsonwebtoken checks it,
   * and the signature of a given string cannot change, so a hit answers what verifying would.
   * Oldest first out at VERIFIED_CACHE_SIZE.
   */
  private readonly verified = new Map<string, TokenClaimsVerified>();

  constructor(
    secret: string,
    readonly expiresInSeconds: number,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(session: { userId: string; tenantId: string; sessionId: string }): string {
    const claims: TokenClaims = { sub: session.userId, tid: session.tenantId, sid: session.sessionId };
    return jwt.sign(claims, this.key, { algorithm: 'HS256', expiresIn: this.expiresInSeconds });
  }

  /** The claims of `token`, or null when it is missing, malformed, tampered with, expired or sessionless. */
  verify(token: string | null | undefined): TokenClaimsVerified | null {
    if (!token) return null;
    const hit = this.verified.get(token);
    if (hit) {
      // jsonwebtoken's rule: expired once the current whole second reaches `exp`.
      if (Math.floor(Date.now() / 1000) < hit.expiresAt / 1000) return hit;
      this.verified.delete(token);
      return null;
    }
    let verified: TokenClaimsVerified;
    try {
      const claims = jwt.verify(token, this.key, { algorithms: ['HS256'] });
      if (typeof claims !== 'object' || claims === null) return null;
      const { sub, tid, sid, exp } = claims as Partial<TokenClaims> & { exp?: number };
      if (typeof sub !== 'string' || typeof tid !== 'string' || typeof sid !== 'string' || typeof exp !== 'number') return null;
      // Frozen: the same object answers every later request with this token.
      verified = Object.freeze({ userId: sub, tenantId: tid, sessionId: sid, expiresAt: exp * 1000 });
    } catch {
      return null;
    }
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
    return verified;
  }

  /** Accepts `Bearer <token>` or a bare token (graphql-ws connectionParams often carry either). */
  static fromHeader(value: unknown): string | null {
    if (typeof value !== 'string') return null;
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
    if (match) return match[1]!;
    return /^\S+$/.test(value.trim()) && value.trim().length > 0 ? value.trim() : null;
  }
}
