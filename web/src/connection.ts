import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Client, fetchExchange, mapExchange, subscriptionExchange } from 'urql';

export type ConnectionState = 'connecting' | 'online' | 'offline';

/** The console's link to the server: urql over HTTP for queries and mutations, graphql-ws for subscriptions. */
export interface Connection {
  client: Client;
  /** Current state and a subscription to its changes (for the offline indicator). */
  state(): ConnectionState;
  /**
   * Counts the connections made so far (the first one too): a view refetches when it changes after
   * the view mounted, since what happened while the socket was down, or not yet up, is missed by
   * its subscriptions (useRefetchOnConnect).
   */
  epoch(): number;
  subscribe(listener: () => void): () => void;
  dispose(): void;
}

const MAX_BACKOFF_MS = 15_000;

export function createConnection(token: string, onUnauthorized: () => void): Connection {
  let state: ConnectionState = 'connecting';
  let epoch = 0;
  const listeners = new Set<() => void>();
  const emit = () => listeners.forEach((l) => l());
  const setState = (next: ConnectionState) => {
    if (state !== next) {
      state = next;
      emit();
    }
  };

  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const ws: WsClient = createWsClient({
    url: wsUrl,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    // A dead server is noticed by a missing pong, not only by a closed socket.
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // 4401/4403: the token is no longer valid; anything else (server restarting, network) is retried.
    shouldRetry: (event) => {
      const code = (event as { code?: number } | null)?.code;
      return code !== 4401 && code !== 4403;
    },
    retryWait: async (retries) => {
      const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** retries);
      await new Promise((resolve) => setTimeout(resolve, base / 2 + Math.random() * (base / 2)));
    },
    on: {
      connected: () => {
        // One notification for both: the epoch changes on every connection, the state with it.
        epoch += 1;
        state = 'online';
        emit();
      },
      closed: (event) => {
        const code = (event as { code?: number } | null)?.code;
        if (code === 4401 || code === 4403) onUnauthorized();
        setState('offline');
      },
      error: () => setState('offline'),
    },
  });

  const client = new Client({
    url: '/graphql',
    requestPolicy: 'network-only',
    // POST always: Apollo's CSRF protection refuses simple GET requests without a preflight header.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    // No cacheExchange: views keep their own state, and it would add __typename to every
    // selection, which counts against the server's query cost limit.
    exchanges: [
      // An expired or revoked session: back to the sign-in page.
      mapExchange({
        onResult(result) {
          if (result.error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onUnauthorized();
          return result;
        },
      }),
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
      fetchExchange,
    ],
  });

  return {
    client,
    state: () => state,
    epoch: () => epoch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      void ws.dispose();
    },
  };
}
