import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { MediaLinkSigner } from '../modules/media/media-links.js';
import type { WebhookAccountCache } from '../modules/twilio-accounts/account-cache.js';
import type { Role } from '../modules/users/role.js';
import type { TokenService } from '../modules/users/tokens.js';
import type { Logger } from './logger.js';
import type { SecretBox } from './secret-box.js';
import type { LoginLimiter, SignUpLimiter } from './login-limiter.js';
import type { TwilioApiFactory } from './twilio-factory.js';
import type { SessionAuthenticator } from '../modules/users/session-authenticator.js';
import type { RoutingHooks } from './routing-hooks.js';
import type { MembershipCache } from '../modules/teams/memberships.js';
import type { PresenceTracker } from '../modules/routing/presence.js';

/** Everything long-lived the services need, built once in src/app.ts. */
export interface AppDeps {
  config: Config;
  database: Database;
  db: Db;
  logger: Logger;
  secretBox: SecretBox;
  events: EventBus;
  tokens: TokenService;
  loginLimiter: LoginLimiter;
  signUpLimiter: SignUpLimiter;
  twilio: TwilioApiFactory;
  sessions: SessionAuthenticator;
  /** Accounts by webhook key for the inbound path; invalidated when an account is re-connected. */
  accountCache: WebhookAccountCache;
  /** Enqueue outbound jobs and wake this instance's dispatcher (implemented by src/modules/outbox). */
  outbox: OutboxPort;
  /** Signs and checks the short-lived media links. */
  mediaLinks: MediaLinkSigner;
  /** What happens to a user's conversations when they are deactivated (implemented by src/modules/conversations). */
  assignments: AssignmentsPort;
  /** Automatic assignment (src/modules/routing): what other modules call after opening or freeing conversations. */
  routing: RoutingHooks;
  /** Each tenant's team memberships, cached per instance (the visibility rule on live events). */
  memberships: MembershipCache;
  /** This instance's WebSockets per user, for presence (src/modules/routing/presence.ts). */
  presence: PresenceTracker;
}

/**
 * Conversations seen from the users module (which conversations depends on): a deactivated
 * user's open work is released in the deactivating transaction. The routing sweep re-assigns
 * what is released (assignee null) within its team.
 */
export interface AssignmentsPort {
  /** Unassigns the user's OPEN/PENDING conversations in `tx`; returns their ids (publish conversationUpdated after commit). */
  releaseAllOf(tx: Db, tenantId: string, userId: string): Promise<string[]>;
}

/**
 * The outbox seen from the modules that write messages: they enqueue in their own transaction and
 * signal after commit, without importing src/modules/outbox (which depends on them).
 */
export interface OutboxPort {
  enqueue(tx: Db, tenantId: string, messageId: string, phoneNumberId: string): Promise<void>;
  /** Called after commit. */
  notifyEnqueued(): void;
  /** The dispatcher of this instance registers (or with null, removes) its wake-up. */
  onEnqueued(wake: (() => void) | null): void;
}

/**
 * Who is calling, as proven by a verified token whose session is live. The role is read from
 * the user's row (cached per instance, invalidated on change), never trusted from the token; a
 * socket's AuthUser is updated in place when it changes.
 */
export interface AuthUser {
  userId: string;
  tenantId: string;
  role: Role;
  /** The session the token names (sessions table). */
  sessionId: string;
}

/**
 * What a tenant-bound service is built from. The tenant id comes only from the verified token:
 * services and repositories never take a tenant id from client input.
 */
export interface TenantScope {
  readonly deps: AppDeps;
  readonly tenantId: string;
  readonly user: AuthUser;
}
