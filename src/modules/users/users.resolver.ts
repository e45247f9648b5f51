import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { required, tenantLoader } from '../../graphql/loaders.js';
import { Tenant } from '../tenants/tenant.type.js';
import { AuthService } from './auth.service.js';
import { CreateAgentInput } from './create-agent.input.js';
import { LogInInput } from './log-in.input.js';
import { Role } from './role.js';
import { SignUpInput } from './sign-up.input.js';
import { AuthPayload, User } from './user.type.js';
import { UpdateUserInput } from './update-user.input.js';

@Resolver(() => User)
export class UserResolver {
  @Authorized()
  @Query(() => User)
  me(@Ctx() ctx: RequestContext): Promise<User> {
    // For an API key: the key as a member of its tenant (see apiKeyAsUser).
    return ctx.tenant().usersService.me();
  }

  @Authorized()
  @Query(() => [User], { description: 'At most 1,000 per tenant.' })
  users(
    @Arg('role', () => Role, { nullable: true }) role: Role | null,
    @Arg('active', () => Boolean, { nullable: true }) active: boolean | null,
    @Ctx() ctx: RequestContext,
  ): Promise<User[]> {
    return ctx.tenant().usersService.list({ role, active });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  updateUser(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateUserInput) input: UpdateUserInput,
    @Ctx() ctx: RequestContext,
  ): Promise<User> {
    return ctx.tenant().usersService.update(id, input);
  }

  @Authorized()
  @Mutation(() => AuthPayload, { description: 'Every other token of the caller stops working; the answer carries a fresh one.' })
  changePassword(
    @Arg('currentPassword', () => String) currentPassword: string,
    @Arg('newPassword', () => String) newPassword: string,
    @Ctx() ctx: RequestContext,
  ): Promise<AuthPayload> {
    return ctx.tenant().usersService.changePassword(currentPassword, newPassword, ctx.clientIp);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends the session of the token used.' })
  logOut(@Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().usersService.logOut();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description: 'ADMIN sets a new password for a user of the tenant (there is no email); their tokens stop working.',
  })
  resetUserPassword(
    @Arg('id', () => ID) id: string,
    @Arg('newPassword', () => String) newPassword: string,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return ctx.tenant().usersService.resetPassword(id, newPassword);
  }

  @Mutation(() => AuthPayload)
  signUp(@Arg('input', () => SignUpInput) input: SignUpInput, @Ctx() ctx: RequestContext): Promise<AuthPayload> {
    return new AuthService(ctx.deps).signUp(input, ctx.clientIp);
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
  tenant(@Root() user: User, @Ctx() ctx: RequestContext): Tenant | Promise<Tenant> {
    return required(tenantLoader(ctx).loadNow(user.tenantId), () => `tenant ${user.tenantId} of user ${user.id} is missing`);
  }
}
