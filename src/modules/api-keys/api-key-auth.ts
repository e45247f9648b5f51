import type { AppDeps } from '../../shared/deps.js';
import type { ApiKeyPrincipal } from '../../shared/principal.js';
import type { Role } from '../users/role.js';
import { hashSecret } from './api-key-secret.js';
import { findActiveKeyByHash, touchLastUsed } from './api-keys.repository.js';

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The key behind a bearer secret, or null when unknown or revoked. Read from the database on every
 * request (one indexed lookup), so a revoked key stops at once on every instance.
 */
export async function authenticateApiKey(deps: AppDeps, secret: string): Promise<ApiKeyPrincipal | null> {
  const key = await findActiveKeyByHash(deps.db, hashSecret(secret));
  if (!key) return null;
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // Off the request's path; the statement itself only writes when a minute has passed.
    touchLastUsed(deps.db, key.id).catch((err: unknown) => deps.logger.warn({ err, apiKeyId: key.id }, 'could not record API key use'));
  }
  return { kind: 'apiKey', apiKeyId: key.id, tenantId: key.tenantId, role: key.role as Role, name: key.name, createdAt: key.createdAt };
}
