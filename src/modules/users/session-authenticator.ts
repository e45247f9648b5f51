import type { Db } from '../../db/client.js';
import type { EventBus, LiveEvent } from '../../events/event-bus.js';
import type { AuthUser } from '../../shared/deps.js';
import type { Logger } from '../../shared/logger.js';
import type { TokenService } from './tokens.js';
import { SessionsRepository, loadSessionState, type SessionState } from './sessions.repository.js';

/** Why a session stopped working: also the close reason of its sockets (code 4403). */
export type SessionEnd = 'user deactivated' | 'session revoked' | 'token expired';

interface Cached {
  state: SessionState | null;
  loadedAt: number;
}

const MAX_CACHED = 50_000;

/**
 * Turns a bearer token into the caller: the token must verify and name a session that exists,
 * is not revoked or expired, of a user who is still active; the role comes from the user's row.
 * Session states are cached per instance for AUTH_CACHE_TTL_SECONDS and dropped on every
 * instance as soon as a user's sessions, role or active flag change (an `authChanged` event
 * through the EventBus's transport), so a deactivation or revocation is refused at once.
 */
export class SessionAuthenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly sessionsOfUser = new Map<string, Set<string>>();
  private readonly changeListeners = new Set<(event: { tenantId: string; userId: string }) => void>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly events: EventBus,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopListening = this.events.listen('authChanged', (event: LiveEvent) => {
      this.forgetUser(event.id);
      for (const listener of this.changeListeners) listener({ tenantId: event.tenantId, userId: event.id });
    });
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  /** A new session for the user and its token. */
  async issue(user: { id: string; tenantId: string }): Promise<{ token: string; sessionId: string }> {
    const expiresAt = new Date(Date.now() + this.tokens.expiresInSeconds * 1000);
    const sessionId = await new SessionsRepository(this.db, user.tenantId).create(user.id, expiresAt);
    return { token: this.tokens.sign({ userId: user.id, tenantId: user.tenantId, sessionId }), sessionId };
  }

  /** The caller, or null when the token or its session is not (or no longer) good. */
  async authenticate(token: string | null): Promise<(AuthUser & { expiresAt: number }) | null> {
    const claims = this.tokens.verify(token);
    if (!claims) return null;
    const state = await this.state(claims.tenantId, claims.sessionId, true);
    if (!state || state.userId !== claims.userId || liveness(state) !== null) return null;
    return { userId: state.userId, tenantId: state.tenantId, role: state.role, sessionId: state.sessionId, expiresAt: Math.min(claims.expiresAt, state.expiresAt) };
  }

  /** Reads the session afresh: null while it is good, else why it ended. Updates `auth.role` in place. */
  async recheck(auth: AuthUser): Promise<SessionEnd | null> {
    const state = await this.state(auth.tenantId, auth.sessionId, false);
    if (!state || state.userId !== auth.userId) return 'session revoked';
    const ended = liveness(state);
    if (ended === null) auth.role = state.role;
    return ended;
  }

  /**
   * The user's sessions, role or active flag changed (call after commit): every instance forgets
   * them and re-checks that user's sockets.
   */
  changed(tenantId: string, userId: string): void {
    this.forgetUser(userId);
    this.events.publish({ type: 'authChanged', tenantId, id: userId, conversationId: '' });
  }

  onChange(listener: (event: { tenantId: string; userId: string }) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private async state(tenantId: string, sessionId: string, useCache: boolean): Promise<SessionState | null> {
    const now = Date.now();
    const hit = this.cache.get(sessionId);
    if (useCache && hit && now - hit.loadedAt < this.ttlMs) return hit.state;
    const state = await loadSessionState(this.db, tenantId, sessionId);
    if (this.cache.size >= MAX_CACHED) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(sessionId, { state, loadedAt: now });
    if (state) {
      let set = this.sessionsOfUser.get(state.userId);
      if (!set) this.sessionsOfUser.set(state.userId, (set = new Set()));
      set.add(sessionId);
    }
    return state;
  }

  private forgetUser(userId: string): void {
    const set = this.sessionsOfUser.get(userId);
    if (!set) return;
    for (const sessionId of set) this.cache.delete(sessionId);
    this.sessionsOfUser.delete(userId);
    this.logger.debug({ userId }, 'session cache invalidated');
  }
}

function liveness(state: SessionState): SessionEnd | null {
  if (!state.active) return 'user deactivated';
  if (state.revoked) return 'session revoked';
  if (state.expiresAt <= Date.now()) return 'token expired';
  return null;
}
