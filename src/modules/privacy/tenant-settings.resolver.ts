import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { Tenant, UpdateTenantInput } from '../tenants/tenant.type.js';
import { TenantSettingsService } from './tenant-settings.service.js';

@Resolver(() => Tenant)
export class TenantSettingsResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => Tenant)
  updateTenant(@Arg('input', () => UpdateTenantInput) input: UpdateTenantInput, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return ctx.tenant().tenantSettingsService.update(input);
  }
}
