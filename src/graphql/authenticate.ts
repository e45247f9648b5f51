import { authenticateApiKey } from '../modules/api-keys/api-key-auth.js';
import { looksLikeApiKey } from '../modules/api-keys/api-key-secret.js';
import { TokenService } from '../modules/users/tokens.js';
import type { AppDeps } from '../shared/deps.js';
import type { Principal } from '../shared/principal.js';

/**
 * The caller proven by an `Authorization` value (HTTP header or graphql-ws connectionParams):
 * an API key (sk_live_… / sk_sandbox_…) or a session token. Null when missing or invalid.
 */
export async function authenticate(deps: AppDeps, authorization: unknown): Promise<Principal | null> {
  const token = TokenService.fromHeader(authorization);
  if (!token) return null;
  if (looksLikeApiKey(token)) return authenticateApiKey(deps, token);
  const session = await deps.sessions.authenticate(token);
  if (!session) return null;
  const { expiresAt: _expiresAt, ...user } = session;
  return user;
}
