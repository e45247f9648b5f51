import type { Role } from '../modules/users/role.js';
import type { AuthUser } from './deps.js';
import { forbidden } from './errors.js';

/**
 * Who is calling: a person signed in with a session token, or a server-to-server API key. Both
 * act with a role inside one tenant. Code that needs a person (log-in, password changes, key
 * creation) asks `requireUser`; code that records who did something asks `actorOf`.
 */
export interface UserPrincipal extends AuthUser {
  kind?: 'user';
}

export interface ApiKeyPrincipal {
  kind: 'apiKey';
  /** Absent: a key is not a person. Declared so `principal.userId` reads as string | undefined. */
  userId?: undefined;
  apiKeyId: string;
  tenantId: string;
  role: Role;
  /** The key's name and creation time, for `me` (see the README). */
  name: string;
  createdAt: Date;
}

export type Principal = UserPrincipal | ApiKeyPrincipal;

export function isApiKey(principal: Principal): principal is ApiKeyPrincipal {
  return principal.kind === 'apiKey';
}

/** The user behind the call, or null for an API key (e.g. a message's author). */
export function userIdOf(principal: Principal): string | null {
  return isApiKey(principal) ? null : principal.userId;
}

/** The audit actor: exactly one of the two is set. */
export function actorOf(principal: Principal): { actorUserId: string | null; actorApiKeyId: string | null } {
  return isApiKey(principal)
    ? { actorUserId: null, actorApiKeyId: principal.apiKeyId }
    : { actorUserId: principal.userId, actorApiKeyId: null };
}

/**
 * `me` for an API key: the key seen as a member of its tenant (id = the key's id, name = its name,
 * email empty, its role). Documented in the README.
 */
export function apiKeyAsUser(key: ApiKeyPrincipal) {
  return { id: key.apiKeyId, email: '', name: key.name, role: key.role, tenantId: key.tenantId, active: true, createdAt: key.createdAt };
}

/**
 * Refuses an API key where only a person may act: creating keys, changing a password, logging out
 * or in (e.g. `requireUser(scope.user, 'change passwords')` first thing in the service).
 */
export function requireUser(principal: Principal, what: string): asserts principal is UserPrincipal {
  if (isApiKey(principal)) throw forbidden(`An API key cannot ${what}`);
}
