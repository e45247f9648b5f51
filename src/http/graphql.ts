import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { RequestContext } from '../graphql/context.js';
import { formatGraphQLError } from '../graphql/format-error.js';
import { authenticate } from '../graphql/authenticate.js';
import type { AppDeps } from '../shared/deps.js';
import type { Principal } from '../shared/principal.js';

const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_TOKENS = 5000;

type WsExtra = {
  request: IncomingMessage;
  socket: WebSocket;
  auth?: Principal;
};

/** graphql-ws's own close code for a refused connection; also used when a key is revoked. */
const CLOSE_FORBIDDEN = 4403;

export interface GraphQLEndpoint {
  /** Closes every WebSocket (graphql-ws completes their subscriptions first). */
  closeSockets(): Promise<void>;
  socketCount(): number;
}

function armorRules(deps: AppDeps) {
  const armor = new ApolloArmor({
    maxDepth: { n: deps.config.graphql.maxDepth },
    costLimit: { maxCost: deps.config.graphql.maxCost },
    maxAliases: { n: 30 },
    maxDirectives: { n: 50 },
    // Token limits are graphql's own parser option (below): armor's plugin answers a syntax error with a 500.
    maxTokens: { enabled: false },
  });
  return armor.protect();
}

/** Apollo Server 5 on POST/GET /graphql and graphql-ws on the same path, sharing one schema and limits. */
export async function registerGraphQL(app: FastifyInstance, deps: AppDeps, schema: GraphQLSchema): Promise<GraphQLEndpoint> {
  const protection = armorRules(deps);

  // Unexpected errors are masked by formatError; this logs them with the request id first.
  const logUnexpected: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            formatGraphQLError({ message: error.message }, error, deps.logger, contextValue.requestId);
          }
        },
      };
    },
  };
  const silentLogger = deps.logger.child({}, { level: 'silent' });

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: protection.validationRules,
    parseOptions: { maxTokens: MAX_TOKENS },
    plugins: [
      // graphql-armor's and the Fastify integration's typings name Apollo's CJS build, we load the
      // ESM one: the same plugin shape, distinct declarations, hence the casts.
      ...(protection.plugins as unknown as ApolloServerPlugin<RequestContext>[]),
      fastifyApolloDrainPlugin(app) as unknown as ApolloServerPlugin<RequestContext>,
      logUnexpected,
      // No cache hints are used; the plugin would walk every resolved field for nothing.
      ApolloServerPluginCacheControlDisabled(),
    ],
    // Apollo's default pretty-prints every response (2-space indent): bytes and CPU for no reader.
    stringifyResult: (value) => JSON.stringify(value),
    // Logged by the plugin above with the request id; here only masked.
    formatError: (formatted, error) => formatGraphQLError(formatted, error, silentLogger),
    logger: deps.logger,
  });
  await apollo.start();

  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) => new RequestContext(deps, request.id, await authenticate(deps, request.headers.authorization), request.ip),
  });

  const wss = new WebSocketServer({ server: app.server, path: '/graphql', maxPayload: WS_MAX_PAYLOAD_BYTES });
  const rules: ValidationRule[] = [...specifiedRules, ...protection.validationRules];

  // Who each open socket authenticated as, so a revoked key's sockets can be closed at once.
  const principals = new Map<WebSocket, Principal>();
  deps.events.onDeliver((event) => {
    if (event.type !== 'apiKeyRevoked') return;
    for (const [socket, principal] of principals) {
      if (principal.kind === 'apiKey' && principal.apiKeyId === event.id) socket.close(CLOSE_FORBIDDEN, 'Forbidden');
    }
  });

  const wsServer = useServer<Record<string, unknown> | undefined, WsExtra>(
    {
      schema,
      // No valid token in connectionParams.authorization → close with 4403 before any subscription.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const auth = await authenticate(deps, params.authorization ?? params.Authorization);
        if (!auth) return false;
        const socket = ctx.extra.socket;
        // The client may have gone while the key was being looked up.
        if (socket.readyState !== socket.OPEN) return false;
        ctx.extra.auth = auth;
        principals.set(socket, auth);
        socket.once('close', () => principals.delete(socket));
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Could not parse the operation')];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors;
        const request = ctx.extra.request;
        const requestId = randomUUID();
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: new RequestContext(deps, requestId, ctx.extra.auth ?? null, request.socket.remoteAddress ?? ''),
        };
      },
      onError: (_ctx, _id, _payload, errors) => {
        for (const error of errors) formatGraphQLError({ message: error.message }, error, deps.logger);
      },
    },
    wss,
  );

  return {
    async closeSockets() {
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    socketCount: () => wss.clients.size,
  };
}
