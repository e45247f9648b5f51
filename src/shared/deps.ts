import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { MediaLinkSigner } from '../modules/media/media-links.js';
import type { WebhookAccountCache } from '../modules/twilio-accounts/account-cache.js';
import type { Role } from '../modules/users/role.js';
import type { TokenService } from '../modules/users/tokens.js';
import type { Logger } from './logger.js';
import type { SecretBox } from './secret-box.js';
import type { LoginLimiter } from './login-limiter.js';
import type { TwilioApiFactory } from './twilio-factory.js';

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
  twilio: TwilioApiFactory;
  /** Accounts by webhook key for the inbound path; invalidated when an account is re-connected. */
  accountCache: WebhookAccountCache;
  /** Enqueue outbound jobs and wake this instance's dispatcher (implemented by src/modules/outbox). */
  outbox: OutboxPort;
  /** Signs and checks the short-lived media links. */
  mediaLinks: MediaLinkSigner;
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

/** Who is calling, as proven by a verified token. */
export interface AuthUser {
  userId: string;
  tenantId: string;
  role: Role;
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
