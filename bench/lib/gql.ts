/** GraphQL over HTTP for seeding and checks (the measured traffic goes through autocannon). */
export interface GqlError {
  message: string;
  extensions?: { code?: string };
}

export interface GqlResponse<T> {
  status: number;
  data: T | null;
  errors?: GqlError[];
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string | null,
): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: { data?: T; errors?: GqlError[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new Error(`GraphQL answered ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  return { status: res.status, data: json.data ?? null, errors: json.errors };
}

/** The data, or an error naming the operation and the server's first error. */
export async function gqlOk<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string | null,
): Promise<T> {
  const res = await gql<T>(url, query, variables, token);
  if (res.errors?.length || !res.data) {
    const op = /\b(?:mutation|query)\b[^{(]*[({]\s*(\w+)/.exec(query)?.[1] ?? 'operation';
    throw new Error(`${op} failed (${res.status}): ${JSON.stringify(res.errors ?? 'no data').slice(0, 400)}`);
  }
  return res.data;
}

export interface Features {
  queries: Set<string>;
  mutations: Set<string>;
  subscriptions: Set<string>;
  conversationFields: Set<string>;
}

/** What the running server offers, from introspection: scenarios skip what is not there yet. */
export async function detectFeatures(graphqlUrl: string): Promise<Features> {
  const data = await gqlOk<{
    __schema: {
      queryType: { fields: { name: string }[] } | null;
      mutationType: { fields: { name: string }[] } | null;
      subscriptionType: { fields: { name: string }[] } | null;
    };
    conversation: { fields: { name: string }[] | null } | null;
  }>(
    graphqlUrl,
    `{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } }
       conversation: __type(name: "Conversation") { fields { name } } }`,
  );
  const names = (t: { fields: { name: string }[] | null } | null) => new Set((t?.fields ?? []).map((f) => f.name));
  return {
    queries: names(data.__schema.queryType),
    mutations: names(data.__schema.mutationType),
    subscriptions: names(data.__schema.subscriptionType),
    conversationFields: names(data.conversation),
  };
}
