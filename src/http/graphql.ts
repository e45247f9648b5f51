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
import { assertNoNulInput } from '../graphql/nul-guard.js';
import { operationCost, queryTooCostlyError } from '../graphql/query-cost.js';
import { TokenService } from '../modules/users/tokens.js';
import type { AppDeps, AuthUser } from '../shared/deps.js';
import type { SessionEnd } from '../modules/users/session-authenticator.js';

const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_TOKENS = 5000;

type WsExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  auth?: AuthUser;
};

/**
 * Close code when the socket's session ends: the user was deactivated, the session revoked
 * (logOut, password change or reset) or the token expired; the reason says which. graphql-ws
 * clients retry on it (with a fresh token from connectionParams), unlike 4401.
 */
export const CLOSE_SESSION_ENDED = 4403;

/** graphql-ws close code for a user over WS_MAX_SOCKETS_PER_USER (4429, like HTTP 429). */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

export interface GraphQLEndpoint {
  /** Closes every WebSocket (graphql-ws completes their subscriptions first). */
  closeSockets(): Promise<void>;
  socketCount(): number;
}

function armorRules(deps: AppDeps) {
  const armor = new ApolloArmor({
    maxDepth: { n: deps.config.graphql.maxDepth },
    // Replaced by the page-size-aware cost (src/graphql/query-cost.ts), checked with the variables.
    costLimit: { enabled: false },
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
  // U+0000 anywhere in the input: BAD_USER_INPUT before any resolver (see nul-guard.ts).
  const refuseNul: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operation }) {
          // Subscriptions run over graphql-ws only: a client mistake, answered 400, not logged.
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) on this path, not over HTTP', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          assertNoNulInput(document, request.variables, { http: true });
        },
      };
    },
  };

  const maxCost = deps.config.graphql.maxCost;
  const costLimit: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request }) {
          const cost = operationCost(schema, document, operationName, request.variables);
          if (cost > maxCost) throw queryTooCostlyError(cost, maxCost);
        },
      };
    },
  };

  const apollo = new ApolloServer<RequestContext>({
    schema,
    // Off in production unless GRAPHQL_INTROSPECTION=true.
    introspection: deps.config.introspection,
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
      refuseNul,
      costLimit,
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
    context: async (request) =>
      new RequestContext(deps, request.id, await deps.sessions.authenticate(TokenService.fromHeader(request.headers.authorization)), request.ip),
  });

  const wss = new WebSocketServer({ server: app.server, path: '/graphql', maxPayload: WS_MAX_PAYLOAD_BYTES });
  const rules: ValidationRule[] = [...specifiedRules, ...protection.validationRules];

  const { maxSubscriptionsPerSocket, maxSocketsPerUser } = deps.config.ws;
  // Open sockets per user on this instance (each instance enforces its own count), with the
  // session each one authenticated with: re-checked when the user's sessions change.
  const socketsPerUser = new Map<string, Set<{ socket: WebSocket; auth: AuthUser }>>();

  const closeEnded = (socket: WebSocket, reason: SessionEnd) => {
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(CLOSE_SESSION_ENDED, reason);
  };
  // A deactivation, demotion, log-out or password change on any instance: re-read that user's
  // sessions and close the sockets whose session ended (within the event's delivery time).
  const stopWatching = deps.sessions.onChange(({ userId }) => {
    const open = socketsPerUser.get(userId);
    if (!open) return;
    for (const entry of open) {
      deps.sessions.recheck(entry.auth).then(
        (ended) => ended && closeEnded(entry.socket, ended),
        (err: unknown) => deps.logger.warn({ err, userId }, 'socket session re-check failed'),
      );
    }
  });

  const wsServer = useServer<Record<string, unknown> | undefined, WsExtra>(
    {
      schema,
      // No valid token in connectionParams.authorization → close with 4403 before any subscription.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authenticated = await deps.sessions.authenticate(TokenService.fromHeader(params.authorization ?? params.Authorization));
        if (!authenticated) return false;
        const { expiresAt, ...auth } = authenticated;
        const { socket } = ctx.extra;
        let open = socketsPerUser.get(auth.userId);
        if ((open?.size ?? 0) >= maxSocketsPerUser) {
          socket.close(CLOSE_TOO_MANY_SOCKETS, `At most ${maxSocketsPerUser} connections per user`);
          return false;
        }
        if (!open) socketsPerUser.set(auth.userId, (open = new Set()));
        const entry = { socket, auth };
        open.add(entry);
        // A subscription never outlives its token.
        const expiry = setTimeout(() => closeEnded(socket, 'token expired'), Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1));
        expiry.unref();
        socket.once('close', () => {
          clearTimeout(expiry);
          open.delete(entry);
          if (open.size === 0 && socketsPerUser.get(auth.userId) === open) socketsPerUser.delete(auth.userId);
        });
        ctx.extra.auth = auth;
        deps.presence.socketOpened(auth);
        return true;
      },
      // Presence: the agent's last socket closing starts the OFFLINE countdown.
      onDisconnect: (ctx) => {
        if (ctx.extra.auth) deps.presence.socketClosed(ctx.extra.auth);
      },
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws has already registered this one: more than the cap means one too many.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`At most ${maxSubscriptionsPerSocket} subscriptions per connection`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        let document;
        try {
          document = parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Could not parse the operation')];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors;
        try {
          assertNoNulInput(document, payload.variables, { http: false });
        } catch (err) {
          return [err as GraphQLError];
        }
        const cost = operationCost(schema, document, payload.operationName, payload.variables);
        if (cost > maxCost) return [queryTooCostlyError(cost, maxCost)];
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
      stopWatching();
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    socketCount: () => wss.clients.size,
  };
}
