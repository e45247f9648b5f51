import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { tenantLoader } from '../../graphql/loaders.js';
import { Tenant } from '../tenants/tenant.type.js';
import { AuthService } from './auth.service.js';
import { CreateAgentInput } from './create-agent.input.js';
import { LogInInput } from './log-in.input.js';
import { Role } from './role.js';
import { SignUpInput } from './sign-up.input.js';
import { AuthPayload, User } from './user.type.js';

@Resolver(() => User)
export class UserResolver {
  @Authorized()
  @Query(() => User)
  me(@Ctx() ctx: RequestContext): Promise<User> {
    return ctx.tenant().usersService.me();
  }

  @Mutation(() => AuthPayload)
  signUp(@Arg('input', () => SignUpInput) input: SignUpInput, @Ctx() ctx: RequestContext): Promise<AuthPayload> {
    return new AuthService(ctx.deps).signUp(input);
  }

  @Mutation(() => AuthPayload)
  logIn(@Arg('input', () => LogInInput) input: LogInInput, @Ctx() ctx: RequestContext): Promise<AuthPayload> {
    return new AuthService(ctx.deps).logIn(input, ctx.clientIp);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  createAgent(@Arg('input', () => CreateAgentInput) input: CreateAgentInput, @Ctx() ctx: RequestContext): Promise<User> {
    return ctx.tenant().usersService.createAgent(input);
  }

  @FieldResolver(() => Tenant)
  async tenant(@Root() user: User, @Ctx() ctx: RequestContext): Promise<Tenant> {
    const tenant = await tenantLoader(ctx).load(user.tenantId);
    if (!tenant) throw new Error(`tenant ${user.tenantId} of user ${user.id} is missing`);
    return tenant;
  }
}
