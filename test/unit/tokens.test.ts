import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenService, VERIFIED_CACHE_SIZE } from '../../src/modules/users/tokens.js';

const SECRET = 'a test secret that is long enough for HS256 use';
const SESSION = { userId: 'u-1', tenantId: 't-1', sessionId: 's-1' };

/**
 * TokenService keeps the tokens it verified: these prove a kept token answers what verifying it
 * again would (claims while good, nothing once expired) and that nothing else gets in.
 */
describe('TokenService: verified tokens kept', () => {
  afterEach(() => vi.useRealTimers());

  it('a token verified once is refused once it expires, as jsonwebtoken refuses it', () => {
    vi.useFakeTimers({ now: new Date('2026-12-04T10:00:00.000Z'), toFake: ['Date'] });
    const tokens = new TokenService(SECRET, 60);
    const token = tokens.sign(SESSION);
    const first = tokens.verify(token);
    expect(first).toMatchObject(SESSION);
    expect(tokens.verify(token)).toBe(first); // kept: the same frozen claims
    expect(Object.isFrozen(first)).toBe(true);
    vi.setSystemTime(new Date('2026-12-04T10:00:59.999Z'));
    expect(tokens.verify(token)).toMatchObject(SESSION);
    expect(() => jwt.verify(token, SECRET, { algorithms: ['HS256'] })).not.toThrow();
    // jsonwebtoken: expired once the whole second reaches exp; the kept token likewise.
    vi.setSystemTime(new Date('2026-12-04T10:01:00.000Z'));
    expect(() => jwt.verify(token, SECRET, { algorithms: ['HS256'] })).toThrow(/expired/);
    expect(tokens.verify(token)).toBeNull();
    expect(tokens.verify(token)).toBeNull(); // and again, now without the kept entry
  });

  it('a token the service did not sign, a tampered one or alg none is refused, before and after a good one is kept', () => {
    const tokens = new TokenService(SECRET, 600);
    const good = tokens.sign(SESSION);
    const other = new TokenService('another secret of the same sort of length', 600).sign(SESSION);
    const [header, , signature] = good.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'u-2', tid: 't-2', sid: 's-2', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    const tampered = `${header}.${payload}.${signature}`;
    const none = jwt.sign({ sub: 'u-1', tid: 't-1', sid: 's-1' }, '', { algorithm: 'none' });
    for (const round of [1, 2]) {
      expect(tokens.verify(other), `round ${round}`).toBeNull();
      expect(tokens.verify(tampered), `round ${round}`).toBeNull();
      expect(tokens.verify(none), `round ${round}`).toBeNull();
      expect(tokens.verify(good), `round ${round}`).toMatchObject(SESSION);
    }
  });

  it('keeps at most VERIFIED_CACHE_SIZE tokens, the oldest out first, and re-verifies one that left', () => {
    const tokens = new TokenService(SECRET, 600);
    const sign = (i: number) => tokens.sign({ ...SESSION, sessionId: `s-${i}` });
    const first = sign(0);
    const kept = tokens.verify(first);
    for (let i = 1; i <= VERIFIED_CACHE_SIZE; i++) expect(tokens.verify(sign(i))).not.toBeNull();
    const again = tokens.verify(first);
    expect(again).toEqual(kept);
    expect(again).not.toBe(kept); // verified afresh: it had been pushed out
  });
});
