import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { Tenant, UpdateTenantInput } from './tenant.type.js';
import { TenantsService } from './tenants.service.js';

@Resolver(() => Tenant)
export class TenantResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => Tenant)
  updateTenant(@Arg('input', () => UpdateTenantInput) input: UpdateTenantInput, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return new TenantsService(ctx.scope()).update(input);
  }
}
