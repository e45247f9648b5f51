import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { Role } from '../modules/users/role.js';
import type { TokenService } from '../modules/users/tokens.js';
import type { Logger } from './logger.js';
import type { Principal } from './principal.js';
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
  /** The caller: a user or an API key (src/shared/principal.ts). */
  readonly user: Principal;
  /** The caller's address, for the audit trail. */
  readonly clientIp?: string;
}
