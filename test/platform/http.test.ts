import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpTenant } from '../helpers/factories.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('HTTP surface', () => {
  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: server.database.kind });
  });

  it('serves GraphQL queries over GET too (with the CSRF-preflight header)', async () => {
    const t = await signUpTenant(server);
    const res = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { authorization: `Bearer ${t.token}`, 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { id: t.userId } } });
  });

  it('echoes or assigns a request id', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await fetch(`${server.url}/healthz`);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a 2 MiB body with 413 and keeps serving', async () => {
    const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const res = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    const after = await server.gql('{ __typename }');
    expect(after.data).toEqual({ __typename: 'Query' });
  });

  it('refuses a query deeper than GRAPHQL_MAX_DEPTH', async () => {
    const shallow = await startTestServer({ GRAPHQL_MAX_DEPTH: '2' });
    try {
      const signUp = await shallow.gql(
        'mutation { signUp(input: { tenantName: "Shallow", name: "S", email: "shallow@example.com", password: "long enough" }) { token } }',
      );
      const token = (signUp.data!.signUp as { token: string }).token;
      expect((await shallow.gql('{ me { id } }', {}, token)).errors).toBeUndefined();
      const deep = await shallow.gql('{ me { tenant { id } } }', {}, token);
      expect(deep.errors?.[0]?.message).toMatch(/depth/i);
      expect(deep.data ?? null).toBeNull();
    } finally {
      await shallow.close();
    }
  });

  it('answers a malformed query with a GraphQL error, not a crash', async () => {
    const res = await server.gql('{ me { ');
    expect(errorCode(res)).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('allows introspection', async () => {
    const res = await server.gql('{ __schema { queryType { name } } }');
    expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

describe('metrics', () => {
  it('exposes Prometheus metrics with requests counted by route pattern', async () => {
    await fetch(`${server.url}/healthz`);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toMatch(/graphql_ws_sockets \d+/);
  });
});
