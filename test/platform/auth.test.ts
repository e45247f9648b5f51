import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { eq } from 'drizzle-orm';
import { AUTH_FIELDS, createAgent, signUpTenant, uniqueEmail } from '../helpers/factories.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LOGIN_MAX_FAILURES: '5' });
});
afterAll(async () => {
  await server?.close();
});

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
const ME = '{ me { id email name role createdAt tenant { id name slug createdAt } } }';
const CREATE_AGENT = 'mutation($input: CreateAgentInput!) { createAgent(input: $input) { id email name role tenant { id } } }';

describe('signUp', () => {
  it('creates a tenant with a unique slug and its first ADMIN, and returns a working token', async () => {
    const a = await signUpTenant(server, 'Ünïcode Dental, Inc.');
    const b = await signUpTenant(server, 'Ünïcode Dental, Inc.');
    expect(a.tenantSlug).toBe('unicode-dental-inc');
    expect(b.tenantSlug).not.toBe(a.tenantSlug);
    expect(b.tenantSlug).toMatch(/^unicode-dental-inc-/);

    const me = await server.gql(ME, {}, a.token);
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toMatchObject({ id: a.userId, email: a.email, role: 'ADMIN', tenant: { id: a.tenantId, slug: a.tenantSlug } });
  });

  it('stores a scrypt hash, never the password', async () => {
    const t = await signUpTenant(server);
    const [row] = await server.app.deps.db.select().from(users).where(eq(users.id, t.userId));
    expect(row!.passwordHash).toMatch(/^scrypt\$/);
    expect(row!.passwordHash).not.toContain(t.password);
  });

  it.each([
    [{ password: 'short' }, 'password'],
    [{ email: 'not-an-email' }, 'email'],
    [{ tenantName: '   ' }, 'tenantName'],
    [{ name: '' }, 'name'],
  ])('refuses bad input %o with BAD_USER_INPUT and stores nothing', async (override, field) => {
    const email = uniqueEmail();
    const res = await server.gql(SIGN_UP, {
      input: { tenantName: 'Bad Input Co', name: 'X', email, password: 'long enough pw', ...override },
    });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe(field);
    const rows = await server.app.deps.db.select().from(users).where(eq(users.email, email));
    expect(rows).toHaveLength(0);
  });

  it('refuses an email that already has an account with CONFLICT, case-insensitively', async () => {
    const t = await signUpTenant(server);
    const res = await server.gql(SIGN_UP, {
      input: { tenantName: 'Other', name: 'X', email: t.email.toUpperCase(), password: 'long enough pw' },
    });
    expect(errorCode(res)).toBe('CONFLICT');
  });
});

describe('logIn', () => {
  it('returns a token for the right password', async () => {
    const t = await signUpTenant(server);
    const res = await server.gql(LOG_IN, { input: { email: t.email, password: t.password } });
    expect(res.errors).toBeUndefined();
    const token = (res.data!.logIn as { token: string }).token;
    const me = await server.gql(ME, {}, token);
    expect(me.data!.me).toMatchObject({ id: t.userId });
    // HS256, carrying user, tenant and session (the role is read from the user's row), with an expiry.
    const decoded = jwt.decode(token, { complete: true })!;
    expect(decoded.header.alg).toBe('HS256');
    expect(decoded.payload).toMatchObject({ sub: t.userId, tid: t.tenantId, sid: expect.any(String) });
    expect(decoded.payload).not.toHaveProperty('role');
    expect((decoded.payload as { exp: number }).exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const t = await signUpTenant(server);
    const wrong = await server.gql(LOG_IN, { input: { email: t.email, password: 'wrong password!' } });
    const unknown = await server.gql(LOG_IN, { input: { email: uniqueEmail('nobody'), password: 'wrong password!' } });
    expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
    expect(errorCode(unknown)).toBe('UNAUTHENTICATED');
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
  });

  it('rate-limits repeated failures for an account, even with the right password afterwards', async () => {
    const t = await signUpTenant(server);
    for (let i = 0; i < 5; i++) {
      const res = await server.gql(LOG_IN, { input: { email: t.email, password: `wrong password ${i}` } });
      expect(errorCode(res)).toBe('UNAUTHENTICATED');
    }
    const limited = await server.gql(LOG_IN, { input: { email: t.email, password: t.password } });
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('without tenantSlug checks only the signUp row; with it, exactly that tenant’s row', async () => {
    const a = await signUpTenant(server, 'Shop A');
    const b = await signUpTenant(server, 'Shop B');
    // The same person added as an agent of tenant B with the same password.
    const add = await server.gql(CREATE_AGENT, { input: { email: a.email, name: 'Shared', password: a.password, role: 'AGENT' } }, b.token);
    expect(add.errors).toBeUndefined();

    const plain = await server.gql(LOG_IN, { input: { email: a.email, password: a.password } });
    expect(plain.errors).toBeUndefined();
    expect(plain.data!.logIn).toMatchObject({ user: { role: 'ADMIN', tenant: { id: a.tenantId } } });

    const inB = await server.gql(LOG_IN, { input: { email: a.email, password: a.password, tenantSlug: b.tenantSlug } });
    expect(inB.errors).toBeUndefined();
    expect(inB.data!.logIn).toMatchObject({ user: { role: 'AGENT', tenant: { id: b.tenantId } } });
  });
});

describe('createAgent', () => {
  it('lets an ADMIN add an agent who can log in', async () => {
    const t = await signUpTenant(server);
    const agent = await createAgent(server, t.token);
    const me = await server.gql(ME, {}, agent.token);
    expect(me.data!.me).toMatchObject({ id: agent.id, role: 'AGENT', tenant: { id: t.tenantId } });
  });

  it('refuses a duplicate email in the same tenant with CONFLICT', async () => {
    const t = await signUpTenant(server);
    const email = uniqueEmail('dup');
    const input = { email, name: 'Dup', password: 'password 123', role: 'AGENT' };
    expect((await server.gql(CREATE_AGENT, { input }, t.token)).errors).toBeUndefined();
    const again = await server.gql(CREATE_AGENT, { input: { ...input, email: email.toUpperCase() } }, t.token);
    expect(errorCode(again)).toBe('CONFLICT');
  });

  it('is FORBIDDEN to an AGENT, and stores nothing', async () => {
    const t = await signUpTenant(server);
    const agent = await createAgent(server, t.token);
    const email = uniqueEmail('sneaky');
    const res = await server.gql(CREATE_AGENT, { input: { email, name: 'Sneaky', password: 'password 123', role: 'ADMIN' } }, agent.token);
    expect(errorCode(res)).toBe('FORBIDDEN');
    expect(await server.app.deps.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });

  it('refuses a short password', async () => {
    const t = await signUpTenant(server);
    const res = await server.gql(CREATE_AGENT, { input: { email: uniqueEmail(), name: 'A', password: '1234567', role: 'AGENT' } }, t.token);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
  });
});

describe('tokens', () => {
  it('answers UNAUTHENTICATED without a token', async () => {
    const res = await server.gql(ME);
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
    expect(res.data).toBeNull();
    const create = await server.gql(CREATE_AGENT, { input: { email: uniqueEmail(), name: 'A', password: 'password 123', role: 'AGENT' } });
    expect(errorCode(create)).toBe('UNAUTHENTICATED');
  });

  it('refuses an expired token', async () => {
    const t = await signUpTenant(server);
    const expired = jwt.sign({ sub: t.userId, tid: t.tenantId, role: 'ADMIN', exp: Math.floor(Date.now() / 1000) - 10 }, server.app.deps.config.jwtSecret, { algorithm: 'HS256' });
    expect(errorCode(await server.gql(ME, {}, expired))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token from the second it expires, though it was accepted before and its session lives on', async () => {
    // The server keeps the tokens it verified (TokenService): a kept one must still expire. Its
    // session outlives it here, so only the token's own expiry can refuse it.
    const t = await signUpTenant(server);
    const { sid } = jwt.decode(t.token) as { sid: string };
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = jwt.sign({ sub: t.userId, tid: t.tenantId, sid, exp }, server.app.deps.config.jwtSecret, { algorithm: 'HS256' });
    expect((await server.gql(ME, {}, shortLived)).errors).toBeUndefined();
    expect((await server.gql(ME, {}, shortLived)).errors).toBeUndefined();
    await waitFor(() => Date.now() >= exp * 1000, { timeoutMs: 5000, what: 'the token to expire' });
    expect(errorCode(await server.gql(ME, {}, shortLived))).toBe('UNAUTHENTICATED');
    expect((await server.gql(ME, {}, t.token)).errors).toBeUndefined();
  });

  it('refuses a tampered token (payload changed to another tenant) and one signed with another key or alg none', async () => {
    const a = await signUpTenant(server);
    const b = await signUpTenant(server);
    const [header, , signature] = a.token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: a.userId, tid: b.tenantId, role: 'ADMIN', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    expect(errorCode(await server.gql(ME, {}, `${header}.${forgedPayload}.${signature}`))).toBe('UNAUTHENTICATED');

    const otherKey = jwt.sign({ sub: a.userId, tid: a.tenantId, role: 'ADMIN' }, 'x'.repeat(40), { algorithm: 'HS256' });
    expect(errorCode(await server.gql(ME, {}, otherKey))).toBe('UNAUTHENTICATED');

    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: a.userId, tid: a.tenantId, role: 'ADMIN' })).toString('base64url')}.`;
    expect(errorCode(await server.gql(ME, {}, none))).toBe('UNAUTHENTICATED');
  });
});

describe('tenant isolation', () => {
  it('a token of tenant A never reads tenant B users', async () => {
    const a = await signUpTenant(server);
    const b = await signUpTenant(server);
    // A validly signed token naming B's user but A's tenant: the user is not in A, so nothing is read.
    const crossed = jwt.sign({ sub: b.userId, tid: a.tenantId, role: 'ADMIN' }, server.app.deps.config.jwtSecret, { algorithm: 'HS256', expiresIn: 600 });
    const res = await server.gql(ME, {}, crossed);
    expect(['NOT_FOUND', 'UNAUTHENTICATED']).toContain(errorCode(res));
    expect(JSON.stringify(res)).not.toContain(b.email);

    const meA = await server.gql(ME, {}, a.token);
    expect(meA.data!.me).toMatchObject({ id: a.userId, tenant: { id: a.tenantId } });
    expect(JSON.stringify(meA)).not.toContain(b.tenantId);
  });
});
