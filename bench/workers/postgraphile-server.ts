/**
 * The read path's peer: PostGraphile 4 (a dev dependency of the bench only; the server never
 * loads it) over the bench database's own tables, serving the inbox page of the queries
 * scenario. It compiles each GraphQL request to one SQL statement (the page, its contact,
 * assignee and last message joined in, hasNextPage included).
 *
 * Set-up, chosen to give PostGraphile its fastest path (docs: bench/README.md, "The read peer"):
 * - the tenant is a `condition: { tenantId }` argument of the request: no JWT, no pgSettings, so
 *   no transaction (PostGraphile only opens one, with `set_config`, when there are settings):
 *   one statement and one round trip per request;
 * - production options: no GraphiQL, no query log, no schema watching, default mutations off;
 *   its own query cache (parse + validate once per query text) and prepared statements stay on
 *   (defaults);
 * - a pg pool of 10, as large as the server's;
 * - plain `http.createServer(handler)`, PostGraphile 4's own standalone mode (its Fastify adapter
 *   is for Fastify 3);
 * - smart tags (no change to the database) name the relations as our schema does (`contact`,
 *   `assignee`, `lastMessage`; `id` is the row's uuid, PostGraphile 4's default, its global id being
 *   `nodeId`), and `lastMessage` follows `(tenant_id, last_message_id)` to messages, which has no
 *   foreign key for it.
 *
 * Env: PORT, PEER_DATABASE_URL, PEER_POOL_SIZE (default 10). Prints "postgraphile ready at <url>".
 */
import { createServer } from 'node:http';
import postgraphileModule from 'postgraphile';

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

const handler = postgraphile({ connectionString: databaseUrl, max: Number(process.env.PEER_POOL_SIZE ?? 10) }, 'public', {
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
