import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_FIELDS, signUpTenant, uniqueEmail } from '../helpers/factories.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';

const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
const CREATE_AGENT = `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`;

/** A log-in as sent through a proxy that appends the client address to X-Forwarded-For. */
async function logInVia(server: TestServer, forwardedFor: string | null, input: Record<string, unknown>) {
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ query: LOG_IN, variables: { input } }),
  });
  const json = (await res.json()) as { data: any; errors?: Array<{ extensions?: { code?: string } }> };
  return { status: res.status, data: json.data, errors: json.errors };
}

describe('log-in limits: consume before check, per email and per address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES: '5', LOGIN_MAX_FAILURES_PER_ADDRESS: '8', TRUST_PROXY: '1' });
  });
  afterAll(async () => server?.close());

  it('30 parallel wrong guesses for one email: at most 5 are checked, the rest RATE_LIMITED; then even the right password waits', async () => {
    const t = await signUpTenant(server);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => logInVia(server, `198.51.100.${i + 1}`, { email: t.email, password: `wrong guess ${i}` })),
    );
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(25);
    const right = await logInVia(server, '198.51.100.200', { email: t.email, password: t.password });
    expect(right.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('one address guessing many emails is stopped by its own count, even when it forges the left of X-Forwarded-For', async () => {
    const results = [];
    for (let i = 0; i < 12; i++) {
      // The client writes a fake address; our one trusted proxy appends the real one.
      results.push(await logInVia(server, `10.9.9.${i}, 203.0.113.77`, { email: uniqueEmail('nobody'), password: 'whatever pw' }));
    }
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code);
    expect(codes.slice(0, 8).every((c) => c === 'UNAUTHENTICATED')).toBe(true);
    expect(codes.slice(8).every((c) => c === 'RATE_LIMITED')).toBe(true);
  });

  it('one client’s failures never lock out another client’s correct log-in', async () => {
    const t = await signUpTenant(server);
    for (let i = 0; i < 8; i++) await logInVia(server, '203.0.113.99', { email: uniqueEmail('x'), password: 'nope nope' });
    expect((await logInVia(server, '203.0.113.99', { email: t.email, password: t.password })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const other = await logInVia(server, '203.0.113.100', { email: t.email, password: t.password });
    expect(other.errors).toBeUndefined();
    expect(other.data.logIn.user.email).toBe(t.email);
  });
});

describe('email reuse across tenants', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('20 hostile tenants adding the victim’s email as an agent change nothing: the victim still logs in, and each log-in checks one row', async () => {
    const victim = await signUpTenant(server, 'Victim Co');
    const hostile = await Promise.all(Array.from({ length: 20 }, (_, i) => signUpTenant(server, `Hostile ${i}`)));
    for (const h of hostile) {
      // Created before and after: order must not matter.
      const res = await server.gql(CREATE_AGENT, { input: { email: victim.email, name: 'Victim', password: 'hostile chosen pw', role: 'AGENT' } }, h.token);
      expect(res.errors).toBeUndefined();
    }

    const ok = await server.gql(LOG_IN, { input: { email: victim.email, password: victim.password } });
      expect(ok.errors).toBeUndefined();
      expect(ok.data!.logIn.user.tenant.id).toBe(victim.tenantId);
      // The hostile password opens nothing without the slug.
      const hostilePw = await server.gql(LOG_IN, { input: { email: victim.email, password: 'hostile chosen pw' } });
      expect(errorCode(hostilePw)).toBe('UNAUTHENTICATED');
      // With a slug, exactly that tenant's row.
      const inHostile = await server.gql(LOG_IN, { input: { email: victim.email, password: 'hostile chosen pw', tenantSlug: hostile[7]!.tenantSlug } });
      expect(inHostile.data!.logIn.user.tenant.id).toBe(hostile[7]!.tenantId);
      const victimPwInHostile = await server.gql(LOG_IN, { input: { email: victim.email, password: victim.password, tenantSlug: hostile[3]!.tenantSlug } });
      expect(errorCode(victimPwInHostile)).toBe('UNAUTHENTICATED');
  });
});

