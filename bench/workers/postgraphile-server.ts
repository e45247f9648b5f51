/**
 * The read path's peer: PostGraphile 4 (a dev dependency of the bench only; the server never
 * loads it) over the bench database's own tables, serving the inbox page of the queries scenario
 * (lib/read-peer.ts starts two of these, one per set-up).
 *
 * Both set-ups share:
 * - production options: no GraphiQL, no query log, no schema watching, default mutations off;
 *   its own query cache (parse + validate once per query text) and prepared statements stay on
 *   (defaults). Each GraphQL request compiles to one SQL statement (page, contact, assignee, last
 *   message and hasNextPage together);
 * - a pg pool of 10, as large as the server's;
 * - plain `http.createServer(handler)`, PostGraphile 4's own standalone mode (its Fastify adapter
 *   is for Fastify 3);
 * - smart tags (no change to the database) naming the relations as our schema does (`contact`,
 *   `assignee`, `lastMessage`; `id` is the row's uuid, PostGraphile 4's default, its global id
 *   being `nodeId`); `lastMessage` follows `(tenant_id, last_message_id)` to messages, which has
 *   no foreign key for it.
 *
 * Without PEER_JWT_SECRET: no authentication; the client names the tenant with a
 * `condition: { tenantId }` argument. No settings, so no transaction: one round trip per request.
 *
 * With PEER_JWT_SECRET (the server's JWT_SECRET): the set-up PostGraphile documents for
 * multi-tenant data. It verifies the agent's own token (HS256, the key built once as the server
 * does), switches to a role that may only SELECT, and row-level security policies on the four
 * tables keep the tenant named by the token's `tid` claim. That costs it a transaction per
 * request (begin, set_config of role and claims, the statement, commit). The policies are made in
 * the bench database only and bind that role only (the server connects as the tables' owner and
 * superuser, whom RLS does not restrict); the role (NOLOGIN; roles are cluster-wide) is created
 * once and kept.
 *
 * Env: PORT, PEER_DATABASE_URL, PEER_POOL_SIZE (default 10), PEER_JWT_SECRET (optional).
 * Prints "postgraphile ready at <url>".
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import postgraphileModule from 'postgraphile';
import postgres from 'postgres';

// CommonJS: Node's named-export detection misses graphile-utils' re-exports, so take them from the module object.
const { makeJSONPgSmartTagsPlugin, postgraphile } = postgraphileModule;

const databaseUrl = process.env.PEER_DATABASE_URL;
if (!databaseUrl) throw new Error('PEER_DATABASE_URL is required');

const smartTags = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: {
    class: {
      conversations: {
        tags: { foreignKey: '(tenant_id, last_message_id) references messages (tenant_id, id)|@fieldName lastMessage|@foreignFieldName lastMessageOf' },
      },
    },
    constraint: {
      // The tenant-bound keys (composite, as ours): the single-column ones stay unnamed duplicates.
      conversations_contact_fk: { tags: { fieldName: 'contact' } },
      conversations_assignee_tenant_fk: { tags: { fieldName: 'assignee' } },
    },
  },
});

/** The role PostGraphile switches to per request in the JWT mode. */
const PEER_ROLE = 'sms_bench_peer';
const PEER_TABLES = ['conversations', 'contacts', 'users', 'messages'];

async function enableRowLevelSecurity(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Concurrent bench runs on one cluster may race to create the role: either wins.
    await sql.unsafe(`do $$ begin create role ${PEER_ROLE} nologin; exception when duplicate_object or unique_violation then null; end $$`);
    await sql.unsafe(`grant usage on schema public to ${PEER_ROLE}`);
    for (const table of PEER_TABLES) {
      await sql.unsafe(`grant select on "${table}" to ${PEER_ROLE}`);
      await sql.unsafe(`alter table "${table}" enable row level security`);
      await sql.unsafe(`drop policy if exists peer_tenant on "${table}"`);
      await sql.unsafe(
        `create policy peer_tenant on "${table}" for select to ${PEER_ROLE} using (tenant_id = nullif(current_setting('jwt.claims.tid', true), '')::uuid)`,
      );
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}

const jwtSecret = process.env.PEER_JWT_SECRET;
let auth = {};
if (jwtSecret) {
  await enableRowLevelSecurity(databaseUrl);
  // As the server does (src/modules/users/tokens.ts): a key object built once; given a string,
  // jsonwebtoken would try it as a PEM public key on every request first.
  const key = createSecretKey(Buffer.from(jwtSecret, 'utf8'));
  auth = {
    jwtSecret: ((_header: unknown, callback: (err: Error | null, key: KeyObject) => void) => callback(null, key)) as never,
    // Our tokens carry no audience (PostGraphile would otherwise require "postgraphile").
    jwtVerifyOptions: { algorithms: ['HS256'], audience: [] },
    pgDefaultRole: PEER_ROLE,
  };
}

// PostGraphile warns at start that it cannot issue tokens (no jwtPgTypeIdentifier): it only verifies ours here.
const warn = console.warn;
console.warn = (...args: unknown[]) => void (String(args[0]).includes('jwtPgTypeIdentifier') || warn(...args));
const handler = postgraphile({ connectionString: databaseUrl, max: Number(process.env.PEER_POOL_SIZE ?? 10) }, 'public', {
  ...auth,
  appendPlugins: [smartTags],
  disableDefaultMutations: true,
  legacyRelations: 'omit',
  graphiql: false,
  enhanceGraphiql: false,
  disableQueryLog: true,
  watchPg: false,
  retryOnInitFail: false,
  setofFunctionsContainNulls: false,
  showErrorStack: false,
});

// The schema is built from introspection before the first request; wait for it (errors surface here).
await handler.getGraphQLSchema();
const server = createServer(handler);
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`postgraphile ready at http://127.0.0.1:${port}\n`);
process.on('SIGTERM', () => {
  server.close();
  void handler.release().finally(() => process.exit(0));
});
