import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpTenant } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('smoke', () => {
  it('signs up and reads me', async () => {
    const t = await signUpTenant(server);
    const me = await server.gql('{ me { id email role tenant { slug } } }', {}, t.token);
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toMatchObject({ id: t.userId, email: t.email, role: 'ADMIN', tenant: { slug: t.tenantSlug } });
  });
});
