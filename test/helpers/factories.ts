import { randomBytes } from 'node:crypto';
import type { TestServer } from './test-server.js';

export const AUTH_FIELDS = 'token user { id email name role tenant { id name slug } }';

export interface SignedUpTenant {
  token: string;
  userId: string;
  tenantId: string;
  tenantSlug: string;
  email: string;
  password: string;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Signs a new tenant up through the API and returns its admin's token. */
export async function signUpTenant(server: TestServer, tenantName = 'Acme Dental'): Promise<SignedUpTenant> {
  const email = uniqueEmail('admin');
  const password = 'correct horse battery';
  const res = await server.gql(
    `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`,
    { input: { tenantName, name: 'Ada Admin', email, password } },
  );
  if (res.errors) throw new Error(`signUp failed: ${JSON.stringify(res.errors)}`);
  const payload = res.data!.signUp as { token: string; user: { id: string; tenant: { id: string; slug: string } } };
  return {
    token: payload.token,
    userId: payload.user.id,
    tenantId: payload.user.tenant.id,
    tenantSlug: payload.user.tenant.slug,
    email,
    password,
  };
}

/** Creates an agent in the admin's tenant and logs it in. */
export async function createAgent(server: TestServer, adminToken: string, role: 'AGENT' | 'ADMIN' = 'AGENT') {
  const email = uniqueEmail('agent');
  const password = 'agent password 1';
  const created = await server.gql(
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id email role } }`,
    { input: { email, name: 'Andy Agent', password, role } },
    adminToken,
  );
  if (created.errors) throw new Error(`createAgent failed: ${JSON.stringify(created.errors)}`);
  // Agents log in with their workspace's slug (without it only a signUp row is checked).
  const me = await server.gql(`{ me { tenant { slug } } }`, {}, adminToken);
  const tenantSlug = (me.data?.me as { tenant: { slug: string } } | undefined)?.tenant.slug;
  const login = await server.gql(
    `mutation($input: LogInInput!) { logIn(input: $input) { token } }`,
    { input: { email, password, tenantSlug } },
  );
  if (login.errors) throw new Error(`logIn failed: ${JSON.stringify(login.errors)}`);
  return { id: (created.data!.createAgent as { id: string }).id, email, password, tenantSlug, token: (login.data!.logIn as { token: string }).token };
}
