import type { AppDeps, AuthUser } from '../../shared/deps.js';
import { userUpdatedEvent } from '../../events/live-events.js';
import { expirePresence, recordSeen } from './presence.repository.js';

/**
 * Presence: which agents have a dashboard open. Each instance counts its own WebSockets per user
 * and writes `agent_presence.last_seen_at` for those users when a socket opens, on every
 * heartbeat, and when their last local socket closes. Every instance also expires presence: an
 * agent whose last_seen_at is older than PRESENCE_OFFLINE_AFTER_SECONDS (no socket anywhere, or
 * an instance that died) becomes OFFLINE. Reconnecting never makes anyone ONLINE by itself.
 */
export class PresenceTracker {
  private readonly sockets = new Map<string, { tenantId: string; userId: string; count: number }>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: AppDeps) {}

  private get offlineAfterSeconds(): number {
    return this.deps.config.presenceOfflineAfterSeconds;
  }

  socketOpened(user: AuthUser): void {
    const key = user.userId;
    const entry = this.sockets.get(key);
    if (entry) {
      entry.count += 1;
      return;
    }
    this.sockets.set(key, { tenantId: user.tenantId, userId: user.userId, count: 1 });
    this.write([user]);
  }

  socketClosed(user: AuthUser): void {
    const entry = this.sockets.get(user.userId);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    this.sockets.delete(user.userId);
    // The moment the offline delay counts from (unless another instance still holds a socket).
    this.write([user]);
  }

  start(): void {
    // Heartbeats well within the delay, so a live socket never looks gone.
    const heartbeatMs = Math.min(30_000, Math.max(200, (this.offlineAfterSeconds * 1000) / 4));
    const tick = () => {
      if (this.stopped) return;
      this.track(this.beat()).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, heartbeatMs);
      });
    };
    this.timer = setTimeout(tick, heartbeatMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async beat(): Promise<void> {
    try {
      await recordSeen(this.deps.db, [...this.sockets.values()]);
      const expired = await expirePresence(this.deps.db, this.offlineAfterSeconds);
      for (const user of expired) this.deps.events.publish(userUpdatedEvent({ id: user.userId, tenantId: user.tenantId }));
      if (expired.length > 0) this.deps.logger.info({ users: expired.length }, 'agents went OFFLINE (no open socket)');
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err }, 'presence heartbeat failed');
    }
  }

  private write(users: Array<{ tenantId: string; userId: string }>): void {
    if (this.stopped) return;
    this.track(
      recordSeen(this.deps.db, users).catch((err: unknown) => this.deps.logger.error({ err }, 'presence update failed')),
    );
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    promise.finally(() => this.pending.delete(promise)).catch(() => {});
    return promise;
  }
}
