import type { TenantScope } from '../../shared/deps.js';
import { badInput } from '../../shared/errors.js';
import { audit } from '../audit/audit.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantRow } from '../tenants/tenants.schema.js';

export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 3650;
const MAX_NAME_LENGTH = 200;

export class TenantSettingsService {
  constructor(private readonly scope: TenantScope) {}

  /** Omitted fields stay; retentionDays: null keeps messages forever. */
  async update(input: { name?: string | null; retentionDays?: number | null }): Promise<TenantRow> {
    const changes: { name?: string; retentionDays?: number | null } = {};
    if (input.name !== undefined) {
      const name = (input.name ?? '').trim();
      if (name.length === 0) throw badInput('name must not be empty', 'name');
      if (name.length > MAX_NAME_LENGTH) throw badInput(`name must be at most ${MAX_NAME_LENGTH} characters`, 'name');
      changes.name = name;
    }
    if (input.retentionDays !== undefined) {
      const days = input.retentionDays;
      if (days !== null && (!Number.isInteger(days) || days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS)) {
        throw badInput(`retentionDays must be between ${MIN_RETENTION_DAYS} and ${MAX_RETENTION_DAYS}, or null`, 'retentionDays');
      }
      changes.retentionDays = days;
    }
    const { deps, tenantId } = this.scope;
    return deps.db.transaction(async (tx) => {
      const repo = new TenantsRepository(tx);
      const row = Object.keys(changes).length > 0 ? await repo.update(tenantId, changes) : (await repo.findByIds([tenantId]))[0];
      if (!row) throw new Error(`tenant ${tenantId} of a verified caller is missing`);
      await audit(this.scope).record(tx, { action: 'tenant.update', targetType: 'tenant', targetId: tenantId });
      return row;
    });
  }
}
