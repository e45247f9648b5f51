import { and, eq } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { MessageDirection } from '../messages/message.enums.js';
import { messages, type StoredMedia } from '../messages/messages.schema.js';
import { isUuid } from '../../shared/ids.js';
import { twilioAccounts, type TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';

export interface InboundMediaSource {
  media: StoredMedia;
  account: Pick<TwilioAccountRow, 'tenantId' | 'accountSid' | 'authTokenSealed' | 'apiBaseUrl'>;
}

/** Bound to the tenant named in the (signed) media link. */
export class MediaRepository extends TenantRepository {
  /** One inbound message's media item with the credentials of the account that received it. */
  async findInboundMedia(messageId: string, index: number): Promise<InboundMediaSource | undefined> {
    if (!isUuid(messageId)) return undefined;
    const [row] = await this.db
      .select({
        media: messages.media,
        tenantId: twilioAccounts.tenantId,
        accountSid: twilioAccounts.accountSid,
        authTokenSealed: twilioAccounts.authTokenSealed,
        apiBaseUrl: twilioAccounts.apiBaseUrl,
      })
      .from(messages)
      .innerJoin(twilioAccounts, and(eq(twilioAccounts.id, messages.twilioAccountId), eq(twilioAccounts.tenantId, messages.tenantId)))
      .where(this.scoped(messages, eq(messages.id, messageId), eq(messages.direction, MessageDirection.INBOUND)))
      .limit(1);
    const media = row?.media[index];
    if (!row || !media) return undefined;
    const { media: _all, ...account } = row;
    return { media, account };
  }
}
