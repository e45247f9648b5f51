import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { ApiKey, CreateApiKeyInput, CreatedApiKey } from './api-key.type.js';
import { ApiKeysService } from './api-keys.service.js';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [ApiKey], { description: 'Newest first, revoked ones included.' })
  apiKeys(@Ctx() ctx: RequestContext): Promise<ApiKey[]> {
    return new ApiKeysService(ctx.scope()).list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiKey, { description: 'A person only: an API key cannot create keys.' })
  createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() ctx: RequestContext): Promise<CreatedApiKey> {
    return new ApiKeysService(ctx.scope()).create(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiKey, { description: 'Takes effect at once: its requests fail and its WebSockets are closed (4403).' })
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<ApiKey> {
    return new ApiKeysService(ctx.scope()).revoke(id);
  }
}
