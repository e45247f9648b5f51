import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { MessageDirection } from '../messages/message.enums.js';
import { Media, Message } from '../messages/message.type.js';
import type { StoredMedia } from '../messages/messages.schema.js';

/** A message as resolvers return it: the row, whose stored media the GraphQL type leaves out. */
type MessageWithMedia = Message & { media?: StoredMedia[] | null; tenantId?: string };

@Resolver(() => Message)
export class MessageMediaResolver {
  /**
   * Inbound media: our own short-lived signed links (Twilio's URLs need the account's
   * credentials, which are never handed out). Outbound media: the public URLs the agent sent.
   */
  @FieldResolver(() => [Media], {
    description: 'Inbound: short-lived signed links served by this server. Outbound: the URLs that were sent.',
  })
  media(@Root() message: MessageWithMedia, @Ctx() ctx: RequestContext): Media[] {
    const items = message.media ?? [];
    if (message.direction !== MessageDirection.INBOUND) return items.map((m) => ({ url: m.url, contentType: m.contentType }));
    // The caller's tenant: a message is only ever resolved for its own tenant's users.
    const tenantId = ctx.user.tenantId;
    return items.map((m, index) => ({
      url: ctx.deps.mediaLinks.sign(ctx.deps.config.publicUrl, { tenantId, messageId: message.id, index }),
      contentType: m.contentType,
    }));
  }
}
