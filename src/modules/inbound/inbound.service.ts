import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../shared/deps.js';
import { isUniqueViolation } from '../../shared/errors.js';
import type { FastifyBaseLogger } from 'fastify';
import { isOptOutErrorCode, twilioErrorMessage } from '../../twilio/errors.js';
import { fromTwilioStatus } from '../messages/message-status.js';
import { isUuid } from '../../shared/ids.js';
import type { WebhookAccount } from '../twilio-accounts/account-cache.js';
import { CAMPAIGN_PROGRESS_EVERY_MS, campaignUpdatedEvent, contactUpdatedEvent, conversationUpdatedEvent, messageAddedEvent, messageUpdatedEvent } from '../../events/live-events.js';
import { parseRating } from '../automations/csat-rating.js';
import { CsatRepository } from '../automations/csat.repository.js';
import { mayAnswerAutomatically } from '../automations/keywords.js';
import { InboundRepository, type IngestResult } from './inbound.repository.js';
import { AlreadyStored } from './ingest-batcher.js';
import { UnroutedMessagesRepository } from '../unrouted/unrouted.repository.js';
import { param, parseInboundSms, parseStatusCallback, type InboundSms, type WebhookParams } from './webhook-params.js';

export type InboundOutcome =
  | { kind: 'stored'; messageId: string; conversationId: string; contactId: string }
  /**
   * From a blocked contact: stored in their (RESOLVED) conversation and nothing else. No live
   * event was published; routing and automations must do nothing for it either.
   */
  | { kind: 'blocked'; messageId: string; conversationId: string; contactId: string }
  | { kind: 'duplicate' }
  /** To an OUTBOUND-only number: kept quietly (opt-out keywords applied), nothing raised. */
  | { kind: 'kept-quietly'; messageId: string; conversationId: string }
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

  /**
   * Throws WebhookInputError (400) on a malformed webhook, anything else is a database failure (503).
   * `automatedAnswer: false` stores the text without GREETING / OUT_OF_HOURS (a text the fallback
   * URL already answered).
   */
  async receiveMessage(params: WebhookParams, opts: { automatedAnswer?: boolean } = {}): Promise<InboundOutcome> {
    const sms = parseInboundSms(params, this.account);
    const { tenantId } = this.account;
    const ctx = { tenantId, twilioAccountId: this.account.id, messageSid: sms.messageSid };
    const answer = opts.automatedAnswer !== false && mayAnswerAutomatically(sms.body, param(params, 'OptOutType'));
    const receivedAt = this.deps.clock.now();
    let stored: IngestResult | null;
    let rated = false;
    // Always recorded: whichever instance runs the copy worker takes them.
    const copyMedia = sms.media.length;
    try {
      const messageId = randomUUID();
      const rating = await this.ingestRating(messageId, sms);
      rated = rating !== null;
      // Group commit: stored with the webhooks arriving meanwhile, by one statement (ingest-batcher.ts).
      stored = rating ?? (await this.deps.ingest.ingest({ tenantId, accountId: this.account.id, messageId, sms, copyMedia }));
      if (!stored) {
        const kept = await this.repository().ingestOnOutboundOnlyNumber(randomUUID(), sms, copyMedia);
        if (kept && copyMedia > 0) this.deps.mediaCopy.wake();
        if (kept) {
          this.log.info({ ...ctx, optChange: sms.optChange }, 'inbound message to an outbound-only number: kept quietly');
          return { kind: 'kept-quietly', ...kept };
        }
      }
    } catch (err) {
      if (err instanceof AlreadyStored || isUniqueViolation(err, 'messages_account_sid_uq')) {
        this.log.info(ctx, 'inbound message already stored (Twilio retry)');
        // The first attempt may have died before its automated answer: answering is idempotent.
        if (answer) {
          const first = await this.repository().findBySid(sms.messageSid);
          if (first) this.deps.automations.afterInbound({ tenantId, messageId: first.messageId, conversationId: first.conversationId, receivedAt });
        }
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
    if (copyMedia > 0) this.deps.mediaCopy.wake();
    const { messageId, conversationId, contactId } = stored;
    if (stored.contactBlocked) {
      this.log.info({ ...ctx, messageId, conversationId, contactId }, 'inbound message from a blocked contact stored silently');
      // Nothing automated answers a blocked contact (the ingest reports it in the same statement).
      return { kind: 'blocked', messageId, conversationId, contactId };
    }
    const added = messageAddedEvent({ id: messageId, tenantId, conversationId }, sms.optChange === 'OPT_OUT' ? 'optedOut' : undefined);
    if (stored.message) added.committed = { row: stored.message, holder: { teamId: stored.teamId, assigneeId: stored.assigneeId ?? null } };
    this.deps.events.publish(
      added,
      conversationUpdatedEvent({ id: conversationId, tenantId }, stored.opened ? 'opened' : undefined),
      // A keyword may have changed the opt-out state (a repeated STOP publishes a harmless repeat).
      ...(sms.optChange ? [contactUpdatedEvent({ id: contactId, tenantId })] : []),
    );
    // After the commit and without waiting: routing never delays Twilio's answer (the sweep
    // routes it should this process die first).
    const routing =
      stored.opened && stored.teamId
        ? this.deps.routing.conversationOpened({ tenantId, conversationId, teamId: stored.teamId, numberHasHours: stored.numberHasHours })
        : undefined;
    // Debug: one line per message is the largest cost at thousands of webhooks/s (see /metrics).
    this.log.debug(
      { ...ctx, messageId: stored.messageId, conversationId: stored.conversationId, media: sms.media.length, mediaDropped: sms.mediaDropped },
      'inbound message stored',
    );
    if (sms.optChange) this.log.info({ ...ctx, optChange: sms.optChange }, 'contact opt-out changed');
    // Queued after the commit and off the answer path: the webhook's empty TwiML does not wait.
    // A survey answer gets no automated reply.
    if (answer && !rated && stored.answerable) {
      this.deps.automations.afterInbound({ tenantId, messageId, conversationId, receivedAt, routing });
    }
    return { kind: 'stored', messageId, conversationId, contactId };
  }

  /** A text that reads as a rating (no media, not a keyword) goes to the survey waiting for it, if any. */
  private async ingestRating(messageId: string, sms: InboundSms): Promise<IngestResult | null> {
    if (sms.optChange || sms.media.length > 0 || sms.mediaDropped > 0) return null;
    const rating = parseRating(sms.body);
    if (rating === null) return null;
    const rated = await new CsatRepository(this.deps.db, this.account.tenantId).ingestRating({
      messageId,
      twilioAccountId: this.account.id,
      messageSid: sms.messageSid,
      from: sms.from,
      to: sms.to,
      body: sms.body,
      segments: sms.segments,
      rating,
      now: this.deps.clock.now(),
    });
    // Stored in the resolved conversation: nothing opened, nothing to route.
    return rated && { ...rated, teamId: null, opened: false, contactBlocked: false };
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
    // A campaign's delivered/failed counts move with its receipts: progress for its subscribers,
    // throttled per campaign (a campaign's receipts arrive in bursts).
    if (result.campaignId) {
      this.deps.events.publishThrottled(campaignUpdatedEvent({ id: result.campaignId, tenantId: this.account.tenantId }), CAMPAIGN_PROGRESS_EVERY_MS);
    }
    this.log.debug({ ...ctx, messageId: result.messageId, status, errorCode }, 'message status updated');
    return { kind: 'updated', messageId: result.messageId, conversationId: result.conversationId };
  }
}
