import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../shared/logger.js';
import { heartbeatLiveSockets, registerLiveSocket, releaseInstanceSockets, releaseLiveSocket } from './limits.repository.js';

/** A row outlives its instance's last heartbeat by this much (a killed instance's sockets stop counting then). */
export const LIVE_SOCKET_TTL_SECONDS = 60;
const HEARTBEAT_MS = 20_000;

/**
 * Open WebSockets per user on every instance sharing the database (`live_sockets`), so
 * WS_MAX_SOCKETS_PER_USER holds however a user's sockets are spread over instances. Each
 * instance refreshes its rows every 20 s; a row of an instance that died without closing its
 * sockets counts for at most LIVE_SOCKET_TTL_SECONDS more.
 */
export class SocketRegistry {
  readonly instanceId = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.track(heartbeatLiveSockets(this.db, this.instanceId, LIVE_SOCKET_TTL_SECONDS))
        .catch((err: unknown) => {
          if (!this.stopped) this.logger.error({ err }, 'socket registry heartbeat failed');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, HEARTBEAT_MS).unref();
        });
    };
    this.timer = setTimeout(tick, HEARTBEAT_MS).unref();
  }

  /** The registration's id, or null when the user already has `max` open sockets anywhere. */
  open(userId: string, max: number): Promise<string | null> {
    return this.track(registerLiveSocket(this.db, { userId, instanceId: this.instanceId, ttlSeconds: LIVE_SOCKET_TTL_SECONDS, max }));
  }

  close(id: string): void {
    if (this.stopped) return;
    void this.track(releaseLiveSocket(this.db, id)).catch((err: unknown) => this.logger.warn({ err }, 'could not release a socket registration'));
  }

  /** After every socket closed, before the database closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await releaseInstanceSockets(this.db, this.instanceId).catch((err: unknown) => this.logger.warn({ err }, 'could not release this instance’s sockets'));
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const done = () => this.pending.delete(promise);
    promise.then(done, done);
    return promise;
  }
}
