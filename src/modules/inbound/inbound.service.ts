import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../shared/deps.js';
import { isUniqueViolation } from '../../shared/errors.js';
import type { FastifyBaseLogger } from 'fastify';
import { isOptOutErrorCode, twilioErrorMessage } from '../../twilio/errors.js';
import { fromTwilioStatus } from '../messages/message-status.js';
import { isUuid } from '../../shared/ids.js';
import type { WebhookAccount } from '../twilio-accounts/account-cache.js';
import { contactUpdatedEvent, conversationUpdatedEvent, messageAddedEvent, messageUpdatedEvent } from '../../events/live-events.js';
import { InboundRepository } from './inbound.repository.js';
import { UnroutedMessagesRepository } from '../unrouted/unrouted.repository.js';
import { parseInboundSms, parseStatusCallback, type WebhookParams } from './webhook-params.js';

export type InboundOutcome =
  | { kind: 'stored'; messageId: string; conversationId: string; contactId: string }
  /**
   * From a blocked contact: stored in their (RESOLVED) conversation and nothing else. No live
   * event was published; routing and automations must do nothing for it either.
   */
  | { kind: 'blocked'; messageId: string; conversationId: string; contactId: string }
  | { kind: 'duplicate' }
  /** `To` is not an active INBOUND_OUTBOUND number of this account: nothing stored. */
  | { kind: 'not-our-number' };

export type StatusOutcome =
  | { kind: 'updated'; messageId: string; conversationId: string }
  | { kind: 'unchanged'; messageId: string }
  | { kind: 'unknown-message' }
  | { kind: 'untracked-status' };

/**
 * What the webhook routes do once the signature is proven: everything here runs for one
 * account, so every repository is bound to that account's tenant.
 */
export class InboundService {
  constructor(
    private readonly deps: AppDeps,
    private readonly account: WebhookAccount,
    // The request's logger (request id included).
    private readonly log: FastifyBaseLogger,
  ) {}

  private repository(): InboundRepository {
    return new InboundRepository(this.deps.db, this.account.tenantId, this.account.id);
  }

  /** Throws WebhookInputError (400) on a malformed webhook, anything else is a database failure (503). */
  async receiveMessage(params: WebhookParams): Promise<InboundOutcome> {
    const sms = parseInboundSms(params, this.account);
    const { tenantId } = this.account;
    const ctx = { tenantId, twilioAccountId: this.account.id, messageSid: sms.messageSid };
    let stored;
    try {
      stored = await this.repository().ingest(randomUUID(), sms);
    } catch (err) {
      if (isUniqueViolation(err, 'messages_account_sid_uq')) {
        this.log.info(ctx, 'inbound message already stored (Twilio retry)');
        return { kind: 'duplicate' };
      }
      throw err;
    }
    if (!stored) {
      // Signed by the account, so genuinely the tenant's: kept for its admins (unroutedMessages),
      // never dropped (a number squatted elsewhere, removed, or not yet registered here).
      await new UnroutedMessagesRepository(this.deps.db, tenantId).insert({
        twilioAccountId: this.account.id,
        fromAddress: sms.from,
        toAddress: sms.to,
        body: sms.body,
        twilioSid: sms.messageSid,
      });
      this.log.warn({ ...ctx }, 'inbound message to a number that is not an inbound number of this account: kept as unrouted');
      return { kind: 'not-our-number' };
    }
    const { messageId, conversationId, contactId } = stored;
    if (stored.contactBlocked) {
      this.log.info({ ...ctx, messageId, conversationId, contactId }, 'inbound message from a blocked contact stored silently');
      return { kind: 'blocked', messageId, conversationId, contactId };
    }
    this.deps.events.publish(
      messageAddedEvent({ id: messageId, tenantId, conversationId }),
      conversationUpdatedEvent({ id: conversationId, tenantId }),
      // A keyword may have changed the opt-out state (a repeated STOP publishes a harmless repeat).
      ...(sms.optChange ? [contactUpdatedEvent({ id: contactId, tenantId })] : []),
    );
    // After the commit and without waiting: routing never delays Twilio's answer (the sweep
    // routes it should this process die first).
    if (stored.opened && stored.teamId) this.deps.routing.conversationOpened(tenantId, stored.conversationId, stored.teamId);
    // Debug: one line per message is the largest cost at thousands of webhooks/s (see /metrics).
    this.log.debug(
      { ...ctx, messageId: stored.messageId, conversationId: stored.conversationId, media: sms.media.length, mediaDropped: sms.mediaDropped },
      'inbound message stored',
    );
    if (sms.optChange) this.log.info({ ...ctx, optChange: sms.optChange }, 'contact opt-out changed');
    return { kind: 'stored', messageId, conversationId, contactId };
  }

  async receiveStatus(params: WebhookParams, messageIdFromUrl: string | null): Promise<StatusOutcome> {
    const callback = parseStatusCallback(params);
    const messageId = messageIdFromUrl && isUuid(messageIdFromUrl) ? messageIdFromUrl : null;
    const ctx = { tenantId: this.account.tenantId, twilioAccountId: this.account.id, messageId, messageSid: callback.messageSid };
    const status = fromTwilioStatus(callback.twilioStatus);
    if (!status) {
      this.log.info({ ...ctx, twilioStatus: callback.twilioStatus }, 'status callback with an untracked status: ignored');
      return { kind: 'untracked-status' };
    }
    if (!messageId && !callback.messageSid) {
      this.log.warn(ctx, 'status callback names no message: ignored');
      return { kind: 'unknown-message' };
    }
    const errorCode = callback.errorCode;
    const result = await this.repository().applyStatus({
      messageId,
      messageSid: callback.messageSid,
      status,
      errorCode,
      errorMessage: errorCode !== null ? (twilioErrorMessage(errorCode) ?? `Twilio error ${errorCode}`) : null,
      optOut: isOptOutErrorCode(errorCode),
    });
    if (!result.messageId) {
      this.log.warn(ctx, 'status callback for an unknown message: ignored');
      return { kind: 'unknown-message' };
    }
    if (!result.changed || !result.conversationId) {
      this.log.debug({ ...ctx, status }, 'status callback changed nothing (late or repeated)');
      return { kind: 'unchanged', messageId: result.messageId };
    }
    this.deps.events.publish(
      messageUpdatedEvent({ id: result.messageId, tenantId: this.account.tenantId, conversationId: result.conversationId }),
      ...(result.optedOutContactId ? [contactUpdatedEvent({ id: result.optedOutContactId, tenantId: this.account.tenantId })] : []),
    );
    this.log.debug({ ...ctx, messageId: result.messageId, status, errorCode }, 'message status updated');
    return { kind: 'updated', messageId: result.messageId, conversationId: result.conversationId };
  }
}
