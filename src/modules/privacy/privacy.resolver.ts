import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';

@Resolver()
export class PrivacyResolver {
  @Authorized(Role.ADMIN)
  @Query(() => String, {
    description: 'ADMIN: a JSON document of everything stored about the contact (profile, conversations, messages, notes, media links); audited.',
  })
  exportContact(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<string> {
    return ctx.tenant().privacyService.exportContact(id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description: "Deletes the contact's messages, notes and media here and asks Twilio to delete them; keeps an audit event and the opt-out state.",
  })
  eraseContact(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().privacyService.eraseContact(id);
  }
}
