import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, notFound } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { requireUser, userIdOf } from '../../shared/principal.js';
import { audit } from '../audit/audit.js';
import { apiKeyRevokedEvent } from '../../events/live-events.js';
import type { Role } from '../users/role.js';
import { newSecret } from './api-key-secret.js';
import { ApiKeysRepository, MAX_API_KEYS_PER_TENANT } from './api-keys.repository.js';
import type { ApiKeyRow } from './api-keys.schema.js';

const MAX_NAME_LENGTH = 100;

export class ApiKeysService {
  private readonly keys: ApiKeysRepository;

  constructor(private readonly scope: TenantScope) {
    this.keys = new ApiKeysRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<ApiKeyRow[]> {
    return this.keys.list();
  }

  async create(input: { name: string; role: Role }): Promise<{ apiKey: ApiKeyRow; secret: string }> {
    requireUser(this.scope.user, 'create API keys');
    const name = input.name.trim();
    if (name.length === 0) throw badInput('name must not be empty', 'name');
    if (name.length > MAX_NAME_LENGTH) throw badInput(`name must be at most ${MAX_NAME_LENGTH} characters`, 'name');
    if ((await this.keys.count()) >= MAX_API_KEYS_PER_TENANT) {
      throw conflict(`A workspace can hold at most ${MAX_API_KEYS_PER_TENANT} API keys`);
    }
    const { secret, prefix, hash } = newSecret(this.scope.deps.config.sandbox);
    const apiKey = await this.scope.deps.db.transaction(async (tx) => {
      const created = await new ApiKeysRepository(tx, this.scope.tenantId).create({
        name,
        role: input.role,
        prefix,
        secretHash: hash,
        createdByUserId: userIdOf(this.scope.user),
      });
      await audit(this.scope).record(tx, { action: 'api_key.create', targetType: 'api_key', targetId: created.id });
      return created;
    });
    this.scope.deps.logger.info({ tenantId: this.scope.tenantId, apiKeyId: apiKey.id, role: apiKey.role }, 'API key created');
    return { apiKey, secret };
  }

  /** Takes effect at once: the next request fails and every instance closes the key's sockets. */
  async revoke(id: string): Promise<ApiKeyRow> {
    if (!isUuid(id)) throw notFound('API key');
    const row = await this.scope.deps.db.transaction(async (tx) => {
      const revoked = await new ApiKeysRepository(tx, this.scope.tenantId).revoke(id);
      if (revoked) await audit(this.scope).record(tx, { action: 'api_key.revoke', targetType: 'api_key', targetId: revoked.id });
      return revoked;
    });
    if (!row) throw notFound('API key');
    this.scope.deps.events.publish(apiKeyRevokedEvent(row));
    this.scope.deps.logger.info({ tenantId: this.scope.tenantId, apiKeyId: row.id }, 'API key revoked');
    return row;
  }
}
