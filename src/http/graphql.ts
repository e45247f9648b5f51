import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { RequestContext } from '../graphql/context.js';
import { formatGraphQLError } from '../graphql/format-error.js';
import { assertNoNulInput } from '../graphql/nul-guard.js';
import { operationCost, queryTooCostlyError } from '../graphql/query-cost.js';
import { TokenService } from '../modules/users/tokens.js';
import { SocketRegistry } from '../modules/users/socket-registry.js';
import type { AppDeps, AuthUser } from '../shared/deps.js';
import type { SessionEnd } from '../modules/users/session-authenticator.js';
import { authenticate } from '../graphql/authenticate.js';
import { authenticateApiKey } from '../modules/api-keys/api-key-auth.js';
import { looksLikeApiKey } from '../modules/api-keys/api-key-secret.js';
import { isApiKey, type ApiKeyPrincipal, type Principal } from '../shared/principal.js';
import { serveGraphQLWs, type WsExtra as AdapterExtra } from './graphql-ws-adapter.js';
import { LiveOperation, SharedSubscriptions, liveClass, type SharedSubscriptionStats } from '../modules/live/shared-subscriptions.js';
import { visibleToSubscriber } from '../modules/live/live.resolver.js';

const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_TOKENS = 5000;
/** Parsed and validated subscription documents kept by their text (dashboards send a handful of distinct ones). */
const MAX_CACHED_DOCUMENTS = 500;

type WsExtra = AdapterExtra & {
  clientIp: string | undefined;
  auth: Principal | undefined;
  /** What closing the socket undoes (set once the user's socket is counted). */
  opened: OpenedSocket | undefined;
};

/** A user's socket as counted: its live_sockets row, its entry in the per-user set, its expiry timer. */
interface OpenedSocket {
  registration: string | null;
  entry: { socket: WebSocket; auth: AuthUser };
  expiry: NodeJS.Timeout;
}

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
  /** Live executions and deliveries so far (identical subscriptions share one execution per event). */
  liveStats(): SharedSubscriptionStats;
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
    context: async (request) => new RequestContext(deps, request.id, await authenticate(deps, request.headers.authorization), request.ip),
  });

  const wss = new WebSocketServer({ server: app.server, path: '/graphql', maxPayload: WS_MAX_PAYLOAD_BYTES });
  const rules: ValidationRule[] = [...specifiedRules, ...protection.validationRules];

  // Sockets opened with an API key, so a revoked key's sockets are closed at once on every instance.
  const keySockets = new Map<WebSocket, ApiKeyPrincipal>();
  const stopWatchingKeys = deps.events.listen('apiKeyRevoked', (event) => {
    for (const [socket, key] of keySockets) {
      if (key.apiKeyId === event.id && (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)) {
        socket.close(CLOSE_SESSION_ENDED, 'API key revoked');
      }
    }
  });
  const { maxSubscriptionsPerSocket, maxSocketsPerUser, keepAliveMs } = deps.config.ws;
  // Open sockets per user on every instance: WS_MAX_SOCKETS_PER_USER is checked there.
  const socketRegistry = new SocketRegistry(deps.db, deps.logger);
  socketRegistry.start();
  // Open sockets per user on this instance, with the session each one authenticated with:
  // re-checked when the user's sessions change.
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

  // Identical subscriptions of one visibility class share one execution per event
  // (live/shared-subscriptions.ts).
  const live = new SharedSubscriptions((delta) => deps.events.countShared(delta), deps.logger, (viewer, holder) => visibleToSubscriber(deps, viewer, holder));
  // The same text parses and validates to the same document: done once, and the AST is shared.
  // Each entry keeps its text too: a subscription's payload then points at this one copy instead of
  // the text parsed from its own message (graphql-ws keeps the payload while the subscription lives).
  const documents = new Map<string, { document: DocumentNode; query: string }>();
  const validDocument = (query: string): { document: DocumentNode; query: string } | readonly GraphQLError[] => {
    const cached = documents.get(query);
    if (cached) return cached;
    let document;
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
    } catch (err) {
      return [err instanceof GraphQLError ? err : new GraphQLError('Could not parse the operation')];
    }
    const errors = validate(schema, document, rules);
    if (errors.length > 0) return errors;
    if (documents.size >= MAX_CACHED_DOCUMENTS) documents.delete(documents.keys().next().value!);
    const entry = { document, query };
    documents.set(query, entry);
    return entry;
  };

  const forgetSocket = (opened: OpenedSocket) => {
    clearTimeout(opened.expiry);
    if (opened.registration) socketRegistry.close(opened.registration);
    const { auth } = opened.entry;
    const open = socketsPerUser.get(auth.userId);
    if (!open) return;
    open.delete(opened.entry);
    if (open.size === 0) socketsPerUser.delete(auth.userId);
  };

  const wsServer = serveGraphQLWs<Record<string, unknown> | undefined, WsExtra>(
    wss,
    {
      schema,
      // No valid token in connectionParams.authorization → close with 4403 before any subscription.
      onConnect: async (ctx) => {
        ctx.extra.clientIp = ctx.extra.request?.socket.remoteAddress ?? '';
        ctx.extra.request = undefined;
        const params = ctx.connectionParams ?? {};
        // Read once: graphql-ws would otherwise keep the token's text for the socket's whole life.
        (ctx as { connectionParams?: unknown }).connectionParams = undefined;
        const token = TokenService.fromHeader(params.authorization ?? params.Authorization);
        if (token && looksLikeApiKey(token)) {
          const key = await authenticateApiKey(deps, token);
          const { socket } = ctx.extra;
          // The client may have gone while the key was being looked up.
          if (!key || socket.readyState !== socket.OPEN) return false;
          keySockets.set(socket, key);
          socket.once('close', () => keySockets.delete(socket));
          ctx.extra.auth = key;
          return true;
        }
        const authenticated = await deps.sessions.authenticate(token);
        if (!authenticated) return false;
        const { expiresAt, ...auth } = authenticated;
        const { socket } = ctx.extra;
        const refuse = () => {
          socket.close(CLOSE_TOO_MANY_SOCKETS, `At most ${maxSocketsPerUser} connections per user`);
          return false;
        };
        // The cap counts the user's sockets on every instance (live_sockets); should the database
        // not answer, this instance's own count still applies.
        let registration: string | null = null;
        try {
          registration = await socketRegistry.open(auth.userId, maxSocketsPerUser);
          if (registration === null) return refuse();
        } catch (err) {
          deps.logger.warn({ err }, 'socket registry unavailable: counting this instance only');
          if ((socketsPerUser.get(auth.userId)?.size ?? 0) >= maxSocketsPerUser) return refuse();
        }
        // The client may have gone while the registration was written.
        if (socket.readyState !== socket.OPEN) {
          if (registration) socketRegistry.close(registration);
          return false;
        }
        let open = socketsPerUser.get(auth.userId);
        if (!open) socketsPerUser.set(auth.userId, (open = new Set()));
        const entry = { socket, auth };
        open.add(entry);
        // A subscription never outlives its token.
        const expiry = setTimeout(closeEnded, Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1), socket, 'token expired');
        expiry.unref();
        // Undone in onClose (graphql-ws calls it once the socket has closed).
        ctx.extra.opened = { registration, entry, expiry };
        ctx.extra.auth = auth;
        deps.presence.socketOpened(auth);
        return true;
      },
      // Presence: the agent's last socket closing starts the OFFLINE countdown.
      onDisconnect: (ctx) => {
        // Presence is a person's: sockets of API keys do not count.
        if (ctx.extra.auth && !isApiKey(ctx.extra.auth)) deps.presence.socketClosed(ctx.extra.auth);
      },
      onClose: (ctx) => {
        const { opened } = ctx.extra;
        ctx.extra.opened = undefined;
        if (opened) forgetSocket(opened);
      },
      onSubscribe: (ctx, id, payload) => {
        // graphql-ws has already registered this one: more than the cap means one too many.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`At most ${maxSubscriptionsPerSocket} subscriptions per connection`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const valid = validDocument(payload.query);
        if (!('document' in valid)) return [...valid];
        const { document } = valid;
        (payload as { query: string }).query = valid.query;
        try {
          assertNoNulInput(document, payload.variables, { http: false });
        } catch (err) {
          return [err as GraphQLError];
        }
        const cost = operationCost(schema, document, payload.operationName, payload.variables);
        if (cost > maxCost) return [queryTooCostlyError(cost, maxCost)];
        const auth = ctx.extra.auth ?? null;
        const clientIp = ctx.extra.clientIp ?? '';
        const operation = getOperationAST(document, payload.operationName);
        // A subscription's context is built only if it starts a group (a member that joins one
        // needs none): graphql-ws keeps these arguments for as long as the subscription lives.
        const liveGroup = auth && operation?.operation === 'subscription' ? liveClass(auth, schema, operation) : null;
        const contextValue = liveGroup
          ? new LiveOperation(
              { socket: ctx.extra.socket, id, viewer: liveGroup.viewer },
              [liveGroup.key, payload.operationName ?? '', JSON.stringify(payload.variables ?? null), payload.query].join('\n'),
              (audience) => {
                const context = new RequestContext(deps, randomUUID(), auth, clientIp);
                context.liveAudience = audience;
                return context;
              },
            )
          : new RequestContext(deps, randomUUID(), auth, clientIp);
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      subscribe: (args) => live.subscribe(args),
      onError: (_ctx, _id, _payload, errors) => {
        for (const error of errors) formatGraphQLError({ message: error.message }, error, deps.logger);
      },
    },
    (socket, request) => ({ socket, request, clientIp: undefined, auth: undefined, opened: undefined }),
    { keepAliveMs, connectionInitWaitMs: 3000, logger: deps.logger },
  );

  return {
    async closeSockets() {
      stopWatching();
      stopWatchingKeys();
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await socketRegistry.stop();
    },
    socketCount: () => wss.clients.size,
    liveStats: () => live.stats,
  };
}
