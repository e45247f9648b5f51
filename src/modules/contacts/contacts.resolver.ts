import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Contact, ContactConnection } from './contact.type.js';

/** updateContact lives in the conversations module: blocking a contact resolves their conversations. */
@Resolver(() => Contact)
export class ContactResolver {
  @Authorized()
  @Query(() => ContactConnection, { description: 'Most recently active first.' })
  contacts(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, {
      nullable: true,
      description: 'At least 2 characters: the name (case and accents ignored) or digits of the number in any formatting.',
    })
    search: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ContactConnection> {
    return ctx.tenant().contactsService.list({ first, after, search });
  }

  @Authorized()
  @Query(() => Contact, { nullable: true })
  contact(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Contact | null> {
    return ctx.tenant().contactsService.get(id);
  }
}
