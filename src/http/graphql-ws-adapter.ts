import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger.js';

/**
 * graphql-ws's protocol (makeServer) over ws sockets, in place of graphql-ws/use/ws, whose adapter
 * keeps more per idle subscription than the protocol needs: a ping interval, a pong timeout and a
 * pong listener per socket; the connection-init timer for the socket's whole life; and an async
 * wrapper around each incoming message that stays suspended for as long as a subscription lasts,
 * holding the message's raw Buffer and its string. Here:
 *
 * - keep-alive is one timer for every socket, spread over the interval (see `keepAlive`);
 * - the connection-init timer is dropped once the client has sent `connection_init`;
 * - messages go to graphql-ws without an enclosing async frame.
 *
 * The behaviour on the wire is use/ws's: the subprotocol check, 4408 when no `connection_init`
 * comes in time, 1011 on an internal error, 1001 when the server stops.
 */

export interface WsExtra {
  socket: WebSocket;
  /** Dropped once connected: an idle socket need not hold its upgrade request. */
  request: IncomingMessage | undefined;
}

export interface WsAdapterOptions {
  /** Each open socket is pinged this often; one that has not answered the previous ping is terminated. */
  keepAliveMs: number;
  /** A socket that sends no `connection_init` within this is closed with 4408 (graphql-ws's default, 3 s). */
  connectionInitWaitMs: number;
  logger: Logger;
}

const INTERNAL_ERROR = 'Internal server error';

/**
 * What graphql-ws writes to and reads from (its `WebSocket`). A class, not an object literal of
 * arrow functions: its methods are shared by every socket (and a function created per socket under
 * a name, as in `{ send: (data) => … }`, gets its own property dictionary with esbuild's keepNames,
 * as tsx runs the server: some 300 bytes per function).
 */
class Transport {
  constructor(
    private readonly socket: WebSocket,
    private readonly internalError: (socket: WebSocket, err: unknown, what: string) => void,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> | undefined {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return undefined;
    return new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    // Not an async listener: graphql-ws's handler of a subscribe message runs for as long as the
    // subscription lives, and an enclosing frame would keep the raw message too.
    this.socket.on('message', (data) => {
      cb(String(data)).catch((err: unknown) => this.internalError(this.socket, err, 'graphql-ws: error while handling a message'));
    });
  }
}

export function serveGraphQLWs<P extends Record<string, unknown> | undefined, E extends WsExtra>(
  wss: WebSocketServer,
  options: ServerOptions<P, E>,
  extra: (socket: WebSocket, request: IncomingMessage) => E,
  { keepAliveMs, connectionInitWaitMs, logger }: WsAdapterOptions,
): { dispose(): Promise<void> } {
  // Sockets still waiting for connection_init, with their timer (the entry goes at init or close).
  const awaitingInit = new Map<WebSocket, NodeJS.Timeout>();
  const initDone = (socket: WebSocket) => {
    const timer = awaitingInit.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    awaitingInit.delete(socket);
  };
  const initTimedOut = (socket: WebSocket) => {
    awaitingInit.delete(socket);
    if (socket.readyState === socket.OPEN) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  };
  const server = makeServer<P, E>({
    ...options,
    connectionInitWaitTimeout: 0,
    onConnect: (ctx) => {
      initDone(ctx.extra.socket);
      return options.onConnect?.(ctx);
    },
  });
  wss.options.handleProtocols = handleProtocols;

  const internalError = (socket: WebSocket, err: unknown, what: string, level: 'warn' | 'error' = 'error') => {
    logger[level]({ err }, what);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(CloseCode.InternalServerError, INTERNAL_ERROR);
  };
  function onSocketError(this: WebSocket, err: Error) {
    // A client's doing, mostly (a frame over maxPayload, an invalid frame): ws has already closed the socket.
    internalError(this, err, 'graphql-ws: error on a WebSocket', 'warn');
  }
  const heartbeat = keepAlive(wss, keepAliveMs);

  wss.once('error', (err) => {
    logger.error({ err }, 'graphql-ws: error on the WebSocket server');
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, INTERNAL_ERROR);
  });

  wss.on('connection', (socket, request) => {
    socket.on('error', onSocketError);
    socket.on('pong', heartbeat.onPong);
    awaitingInit.set(socket, setTimeout(initTimedOut, connectionInitWaitMs, socket));
    const closed = server.opened(new Transport(socket, internalError), extra(socket, request));
    // `on`, not `once` (a socket closes once): no wrapper kept per socket.
    socket.on('close', (code, reason) => {
      initDone(socket);
      closed(code, String(reason)).catch((err: unknown) => logger.error({ err }, 'graphql-ws: error while closing a socket'));
    });
  });

  return {
    async dispose() {
      heartbeat.stop();
      for (const socket of awaitingInit.keys()) initDone(socket);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** A keep-alive cycle visits every socket in this many slices, one per tick. */
const KEEPALIVE_SLICES = 100;

/**
 * Pings every open socket once per `keepAliveMs` and terminates one that has not answered its
 * previous ping. Spread over the interval, a slice of the sockets per tick: each ping is a write
 * to a socket, and 10,000 of them in one loop held the event loop for a few hundred
 * milliseconds, during which no event was delivered and no webhook answered. The cycle visits
 * sockets in `wss.clients` order (a Set: sockets opened meanwhile are visited at its end), starts
 * no sooner than `keepAliveMs` after the previous one started, and a socket is terminated only if
 * its unanswered ping is at least half an interval old (when many sockets close, the survivors
 * move up the order and come round sooner).
 */
function keepAlive(wss: WebSocketServer, keepAliveMs: number): { onPong(this: WebSocket): void; stop(): void } {
  // Sockets pinged and not answered yet, with when (tenths of a second since start: a small
  // integer, so an entry costs no more than a WeakSet's); weakly held: a closed socket is forgotten.
  const unanswered = new WeakMap<WebSocket, number>();
  const started = performance.now();
  const now = () => Math.floor((performance.now() - started) / 100);
  const patience = Math.floor(keepAliveMs / 200);
  let cycle: Iterator<WebSocket> | null = null;
  let cycleStart = -Infinity;
  let perTick = 1;
  const visit = (socket: WebSocket) => {
    if (socket.readyState !== socket.OPEN) return;
    const pingedAt = unanswered.get(socket);
    if (pingedAt !== undefined) {
      if (now() - pingedAt >= patience) socket.terminate();
      return;
    }
    unanswered.set(socket, now());
    socket.ping();
  };
  const tick = () => {
    if (!cycle) {
      if (performance.now() - cycleStart < keepAliveMs) return;
      cycleStart = performance.now();
      cycle = wss.clients.values();
      perTick = Math.max(1, Math.ceil(wss.clients.size / KEEPALIVE_SLICES));
    }
    for (let n = 0; n < perTick; n++) {
      const next = cycle.next();
      if (next.done) {
        cycle = null;
        return;
      }
      visit(next.value);
    }
  };
  // The first cycle starts one tick in, as the first sweep of an interval timer would start later.
  const timer = setInterval(tick, Math.max(5, Math.floor(keepAliveMs / KEEPALIVE_SLICES)));
  timer.unref();
  return {
    onPong(this: WebSocket) {
      unanswered.delete(this);
    },
    stop: () => clearInterval(timer),
  };
}
