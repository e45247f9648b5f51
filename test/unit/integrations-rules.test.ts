import { describe, expect, it } from 'vitest';
import { hashSecret, looksLikeApiKey, newSecret } from '../../src/modules/api-keys/api-key-secret.js';
import { isPublicAddress } from '../../src/modules/webhooks/url-guard.js';
import { apiKeyAsUser, isApiKey, requireUser, userIdOf, type ApiKeyPrincipal } from '../../src/shared/principal.js';
import { decodeSeqCursor, encodeSeqCursor, toSeqPage } from '../../src/shared/seq-page.js';
import { Role } from '../../src/modules/users/role.js';

describe('API key secrets', () => {
  it('are 256 random bits behind a mode prefix, shown by prefix, stored as SHA-256', () => {
    const live = newSecret(false);
    expect(live.secret).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(live.prefix).toBe(live.secret.slice(0, 12));
    expect(live.hash).toBe(hashSecret(live.secret));
    expect(live.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(newSecret(true).secret).toMatch(/^sk_sandbox_/);
    expect(newSecret(false).secret).not.toBe(live.secret);
    expect(looksLikeApiKey(live.secret)).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.x.y')).toBe(false);
  });
});

describe('principal', () => {
  const key: ApiKeyPrincipal = { kind: 'apiKey', apiKeyId: 'k1', tenantId: 't1', role: Role.AGENT, name: 'Bot', createdAt: new Date(0) };
  const user = { userId: 'u1', tenantId: 't1', role: Role.ADMIN, sessionId: 's1' };
  it('tells a key from a user and refuses keys where a person must act', () => {
    expect(isApiKey(key)).toBe(true);
    expect(isApiKey(user)).toBe(false);
    expect(userIdOf(key)).toBeNull();
    expect(userIdOf(user)).toBe('u1');
    expect(() => requireUser(key, 'change passwords')).toThrow(/API key cannot change passwords/);
    expect(() => requireUser(user, 'change passwords')).not.toThrow();
    expect(apiKeyAsUser(key)).toEqual({ id: 'k1', email: '', name: 'Bot', role: Role.AGENT, tenantId: 't1', active: true, createdAt: new Date(0) });
  });
});

describe('webhook addresses', () => {
  it('counts only ordinary public unicast addresses as public', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', 'not an ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
});

describe('id cursors', () => {
  it('round-trip, refuse what we did not issue, and page newest first', () => {
    expect(decodeSeqCursor(encodeSeqCursor(12345))).toBe(12345);
    expect(decodeSeqCursor(null)).toBeNull();
    expect(() => decodeSeqCursor('bogus')).toThrow(/not a valid cursor/);
    const page = toSeqPage([{ id: 5 }, { id: 4 }, { id: 3 }], 2, false, (r) => r.id);
    expect(page.edges.map((e) => e.node.id)).toEqual([5, 4]);
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: encodeSeqCursor(4) });
  });
});
