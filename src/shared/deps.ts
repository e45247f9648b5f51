import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { Role } from '../modules/users/role.js';
import type { TokenService } from '../modules/users/tokens.js';
import type { Logger } from './logger.js';
import type { SecretBox } from './secret-box.js';
import type { LoginLimiter, SignUpLimiter } from './login-limiter.js';
import type { TwilioApiFactory } from './twilio-factory.js';
import type { SessionAuthenticator } from '../modules/sessions/session-authenticator.js';

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
