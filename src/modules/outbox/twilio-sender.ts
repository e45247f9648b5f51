import type { AppDeps } from '../../shared/deps.js';
import type { TwilioApi } from '../../twilio/client.js';
import { statusCallbackUrl, twilioCredentials } from '../twilio-accounts/credentials.js';
import type { TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import type { SendContext } from './outbox-send.repository.js';
import { MessagesRepository } from '../messages/messages.repository.js';

const MAX_CACHED_CLIENTS = 200;
/** How many of the recipient's latest messages a reconciliation reads (one page). */
const RECONCILE_PAGE = 50;
/** Twilio's dates are whole seconds on Twilio's clock: a copy may look a little older than our row. */
const CLOCK_ALLOWANCE_MS = 5 * 60_000;

/**
 * The one Twilio call of a send: builds the Messages POST of a message and hands it to the
 * account's API client. Clients are cached per account (and token/API root), so each account's
 * keep-alive connections are reused from send to send (src/twilio/messages-http.ts).
 */
export class TwilioSender {
  private readonly clients = new Map<string, TwilioApi>();

  constructor(private readonly deps: AppDeps) {}

  /** Twilio's SID of the created message; throws what the client throws (a TwilioApiError). */
  async send(ctx: SendContext): Promise<string> {
    const { config } = this.deps;
    const { message, phoneNumber } = ctx;
    const result = await this.client(ctx.account).createMessage({
      to: ctx.contact.phoneNumber,
      // Through the number's Messaging Service, and always From the conversation's own number:
      // a reply leaves from the number the customer texted (the service's sticky sender
      // forms on the first outbound text only, not on an inbound one).
      from: phoneNumber.e164,
      ...(phoneNumber.messagingServiceSid ? { messagingServiceSid: phoneNumber.messagingServiceSid } : {}),
      body: message.body,
      // Uploaded files: signed links made now, living past Twilio's queue time (validity period).
      mediaUrl: message.media.map((m) =>
        m.fileId ? this.deps.mediaFileLinks.sign(config.publicUrl, message.tenantId, m.fileId, config.media.sendLinkTtlSeconds) : m.url,
      ),
      statusCallback: statusCallbackUrl(config.publicUrl, ctx.account.webhookKey, message.id),
    });
    return result.sid;
  }

  /**
   * Whether an earlier attempt of this message reached Twilio after all (it timed out, the
   * connection broke, or its process died before recording the answer): the SID of a message
   * from our number to the contact with the same body, created after our row was, and not
   * already held by another of our messages (the same words sent twice). Null: not there, send.
   */
  async findEarlier(ctx: SendContext): Promise<string | null> {
    const { message, phoneNumber } = ctx;
    const listed = await this.client(ctx.account).listRecentMessages({ to: ctx.contact.phoneNumber, from: phoneNumber.e164 }, RECONCILE_PAGE);
    const since = message.createdAt.getTime() - CLOCK_ALLOWANCE_MS;
    // Oldest first: were there several copies, the first one is the one the customer saw first.
    const copies = listed.filter((m) => m.body === message.body && m.dateCreated !== null && m.dateCreated.getTime() >= since).reverse();
    if (copies.length === 0) return null;
    const known = await new MessagesRepository(this.deps.db, message.tenantId).knownTwilioSids(
      ctx.account.id,
      copies.map((m) => m.sid),
    );
    return copies.find((m) => !known.has(m.sid))?.sid ?? null;
  }

  /**
   * One API client per account (and token/root version), reused across sends: building a client
   * per message costs more than the send's bookkeeping, and would not reuse connections.
   */
  private client(account: TwilioAccountRow): TwilioApi {
    const key = `${account.id}|${account.authTokenSealed}|${account.apiBaseUrl}`;
    let api = this.clients.get(key);
    if (!api) {
      api = this.deps.twilio(twilioCredentials(this.deps.secretBox, account));
      if (this.clients.size >= MAX_CACHED_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      this.clients.set(key, api);
    }
    return api;
  }
}
