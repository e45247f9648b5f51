const KEY = 'sms-inbox.session';

export interface Session {
  token: string;
  userId: string;
  name: string;
  role: 'ADMIN' | 'AGENT';
  tenantName: string;
}

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

/** Sign-in goes through the same public GraphQL API, before any client exists. */
export async function logIn(email: string, password: string, tenantSlug?: string): Promise<Session> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($input: LogInInput!) { logIn(input: $input) { token user { id name role tenant { name } } } }',
      variables: { input: { email, password, ...(tenantSlug ? { tenantSlug } : {}) } },
    }),
  });
  const json = (await res.json()) as {
    data?: { logIn: { token: string; user: { id: string; name: string; role: 'ADMIN' | 'AGENT'; tenant: { name: string } } } };
    errors?: { message: string }[];
  };
  if (!json.data) throw new Error(json.errors?.[0]?.message ?? `Sign-in failed (HTTP ${res.status})`);
  const { token, user } = json.data.logIn;
  return { token, userId: user.id, name: user.name, role: user.role, tenantName: user.tenant.name };
}
