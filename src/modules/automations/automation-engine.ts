import type { Db } from '../../db/client.js';
import type { AppDeps, AutomationsPort, InboundTextEvent, NumbersOpenedListener, OpenedNumber } from '../../shared/deps.js';
import type { OpenedConversation } from '../../shared/routing-hooks.js';
import { isUniqueViolation } from '../../shared/errors.js';
import { countSegments } from '../../twilio/segments.js';
import { ConversationsRepository } from '../conversations/conversations.repository.js';
import { conversationUpdatedEvent, messageAddedEvent } from '../../events/live-events.js';
import { MessageSource, MessageStatus } from '../messages/message.enums.js';
import { MessagesRepository } from '../messages/messages.repository.js';
import type { MessageRow } from '../messages/messages.schema.js';
import { closedPeriodKey, isOpenAt, nextOpening } from '../operating-hours/schedule.js';
import { AutomatedMessageTrigger } from './automation.enums.js';
import { AutomatedMessagesRepository, AutomationSendsRepository, hoursOfConversations, OperatingHoldsRepository } from './automations.repository.js';
import { CsatRepository, surveysReadyToSend } from './csat.repository.js';
import { renderTemplate } from './placeholders.js';

export type { InboundTextEvent };

/** What to do once the caller's transaction committed (live events, waking the dispatcher). */
export type AfterCommit = () => void;

const SURVEY_BATCH = 50;
/** A schedule that never opens (no periods) holds routing this long, then the guard is asked again. */
const NEVER_OPENS_HOLD_MS = 366 * 24 * 3600 * 1000;
/** The RESOLVED text went out (or further): the survey may follow. FAILED skips the survey. */
const RESOLVED_TEXT_WENT_OUT = new Set<string>([MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.UNDELIVERED]);

/**
 * Decides and queues automated texts. Every text goes through the outbox like an agent's reply
 * (OUTBOUND, no author, source AUTOMATION) and is keyed `auto:<trigger>:<event>` on the
 * messages' per-tenant idempotency index, so a trigger event yields one text whatever the
 * retries and instances. Each decision runs with the contact row locked: opt-out, the loop guard
 * and the "already sent" check cannot race a concurrent decision for the same contact.
 *
 * One engine per running app (AppDeps.automations, bound to the app's deps once they are built);
 * `drain()` waits for answers still running at shutdown.
 */
export class AutomationEngine implements AutomationsPort {
  private readonly inFlight = new Set<Promise<unknown>>();
  private textsListener: (() => void) | null = null;
  readonly openedListeners = new Set<NumbersOpenedListener>();
  /**
   * Opening texts whose answer waits for routing's outcome, by conversation: routing's onQueued
   * (run before the routing promise settles, in this instance) marks them busy.
   */
  private readonly awaitingRouting = new Map<string, { busy: boolean }>();
  private boundDeps: AppDeps | null = null;

  bind(deps: AppDeps): void {
    this.boundDeps = deps;
  }

  private get deps(): AppDeps {
    if (!this.boundDeps) throw new Error('AutomationEngine used before bind(deps)');
    return this.boundDeps;
  }

  textsChanged(): void {
    this.textsListener?.();
  }

  onTextsChanged(listener: (() => void) | null): void {
    this.textsListener = listener;
  }

  onNumbersOpened(listener: NumbersOpenedListener): () => void {
    this.openedListeners.add(listener);
    return () => this.openedListeners.delete(listener);
  }

  /**
   * After an inbound commit, off the webhook's answer path: the webhook's empty TwiML does not
   * wait for this. Failures are logged; the text itself is stored already.
   */
  afterInbound(event: InboundTextEvent): void {
    // Registered before anything awaits: routing's onQueued cannot come first.
    const waiter = event.routing ? { busy: false } : undefined;
    if (waiter) this.awaitingRouting.set(event.conversationId, waiter);
    this.track(
      this.answerInbound(event, waiter)
        .catch((err: unknown) => this.deps.logger.error({ err, tenantId: event.tenantId, messageId: event.messageId }, 'automated answer failed'))
        .finally(() => {
          if (waiter && this.awaitingRouting.get(event.conversationId) === waiter) this.awaitingRouting.delete(event.conversationId);
        }),
    );
  }

  /**
   * routing's beforeRouting guard, for the openings (of any tenants) that routing coalesced: a number
   * closed by its operating hours holds automatic assignment of an opened conversation until the
   * schedule's next opening (onNumbersOpened releases it then; the routing sweep would too, on the
   * database clock). One query for the lot; answers in the order asked.
   */
  async holdWhileClosed(opened: readonly OpenedConversation[]): Promise<Array<Date | null>> {
    // Openings whose number is known to have no schedule are never held: no query for a burst of those.
    const unknown = opened.filter((o) => o.numberHasHours !== false);
    if (unknown.length === 0) return opened.map(() => null);
    const hoursBy = await hoursOfConversations(this.deps.db, unknown);
    const now = this.deps.clock.now();
    return opened.map(({ conversationId }) => {
      const hours = hoursBy.get(conversationId);
      if (!hours || isOpenAt(hours, now)) return null;
      return nextOpening(hours, now) ?? new Date(now.getTime() + NEVER_OPENS_HOLD_MS);
    });
  }

  /** routing's onQueued: the opening text's answer (waiting for routing) becomes ALL_AGENTS_BUSY. */
  conversationQueued(queued: OpenedConversation): void {
    const waiter = this.awaitingRouting.get(queued.conversationId);
    if (waiter) waiter.busy = true;
  }

  /** onNumbersOpened: the held conversations of these numbers are released and routed now. */
  async releaseOpened(opened: OpenedNumber[]): Promise<void> {
    const byTenant = new Map<string, string[]>();
    for (const { tenantId, phoneNumberId } of opened) byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), phoneNumberId]);
    for (const [tenantId, phoneNumberIds] of byTenant) {
      const released = await new OperatingHoldsRepository(this.deps.db, tenantId).releaseHolds(phoneNumberIds);
      if (released > 0) this.deps.logger.info({ tenantId, phoneNumberIds, released }, 'numbers opened: held conversations released');
      await this.deps.routing.routeWaiting(tenantId);
    }
  }

  /**
   * At most one of OUT_OF_HOURS, ALL_AGENTS_BUSY, GREETING answers one inbound text, in that
   * order of priority; a trigger without an enabled text steps aside for the next. The database
   * holds the "at most one" (automation_sends_answer_uq): a second decision for the same text
   * (a retry, a late routing outcome) queues nothing. Returns the trigger chosen.
   */
  async answerInbound(event: InboundTextEvent, waiter?: { busy: boolean }): Promise<AutomatedMessageTrigger | null> {
    const { tenantId, conversationId } = event;
    const ctx = await new AutomationSendsRepository(this.deps.db, tenantId).inboundContext(conversationId);
    if (!ctx || ctx.resolved) return null;
    const texts = await new AutomatedMessagesRepository(this.deps.db, tenantId).findEnabled(ctx.phoneNumberId, [
      AutomatedMessageTrigger.OUT_OF_HOURS,
      AutomatedMessageTrigger.ALL_AGENTS_BUSY,
      AutomatedMessageTrigger.GREETING,
    ]);
    if (texts.length === 0) return null;
    const enabled = new Set(texts.map((t) => t.trigger));
    const now = event.receivedAt ?? this.deps.clock.now();

    if (ctx.hours && enabled.has(AutomatedMessageTrigger.OUT_OF_HOURS) && !isOpenAt(ctx.hours, now)) {
      // Once per conversation per closed stretch: the stretch is named by when it ends.
      await this.queueAlone(
        tenantId,
        conversationId,
        AutomatedMessageTrigger.OUT_OF_HOURS,
        `${conversationId}:${closedPeriodKey(ctx.hours, now)}`,
        event.messageId,
      );
      return AutomatedMessageTrigger.OUT_OF_HOURS;
    }
    // GREETING or ALL_AGENTS_BUSY: only once routing told whether the text found nobody eligible
    // (deciding GREETING first would take the text's one answer from ALL_AGENTS_BUSY).
    let allAgentsBusy = event.allAgentsBusy === true;
    if (event.routing) {
      await event.routing;
      allAgentsBusy ||= waiter?.busy === true;
    }
    if (allAgentsBusy && enabled.has(AutomatedMessageTrigger.ALL_AGENTS_BUSY)) {
      await this.queueAlone(tenantId, conversationId, AutomatedMessageTrigger.ALL_AGENTS_BUSY, `${conversationId}:${event.messageId}`, event.messageId);
      return AutomatedMessageTrigger.ALL_AGENTS_BUSY;
    }
    if (enabled.has(AutomatedMessageTrigger.GREETING) && ctx.firstMessageId === event.messageId) {
      await this.queueAlone(tenantId, conversationId, AutomatedMessageTrigger.GREETING, conversationId, event.messageId);
      return AutomatedMessageTrigger.GREETING;
    }
    return null;
  }

  /**
   * The hook for routing when a conversation enters its team's queue with nobody eligible
   * outside an inbound text (a transfer, a team change). `cause` names the event (e.g. the
   * transfer's id) so that each queue entry answers once. For an inbound text, pass
   * `allAgentsBusy` to afterInbound instead: it keeps the one-answer-per-text priority.
   */
  async allAgentsBusy(tenantId: string, conversationId: string, cause: string): Promise<boolean> {
    const sent = await this.queueAlone(tenantId, conversationId, AutomatedMessageTrigger.ALL_AGENTS_BUSY, `${conversationId}:${cause}`);
    return sent !== null;
  }

  /**
   * Inside the transaction that moved the conversation to RESOLVED (so the texts are queued if
   * and only if the resolution commits): the RESOLVED text, and the survey, which waits for the
   * RESOLVED text to be SENT (the sweeper sends it) or goes at once when there is none.
   */
  async onResolved(
    tx: Db,
    conversation: { id: string; tenantId: string; phoneNumberId: string; updatedAt: Date },
    resolvedById: string | null,
  ): Promise<AfterCommit> {
    const { tenantId } = conversation;
    const texts = await new AutomatedMessagesRepository(tx, tenantId).findEnabled(conversation.phoneNumberId, [
      AutomatedMessageTrigger.RESOLVED,
      AutomatedMessageTrigger.CSAT_SURVEY,
    ]);
    if (texts.length === 0) return () => {};
    const queued: MessageRow[] = [];
    // The transition's own timestamp names this resolution (a conversation can be resolved again).
    const resolution = `${conversation.id}:${conversation.updatedAt.getTime()}`;
    let resolvedText: MessageRow | null = null;
    if (texts.some((t) => t.trigger === AutomatedMessageTrigger.RESOLVED)) {
      resolvedText = await this.queueIn(tx, tenantId, conversation.id, AutomatedMessageTrigger.RESOLVED, resolution);
      if (resolvedText) queued.push(resolvedText);
    }
    if (texts.some((t) => t.trigger === AutomatedMessageTrigger.CSAT_SURVEY)) {
      const csat = new CsatRepository(tx, tenantId);
      const created = await csat.create({
        conversationId: conversation.id,
        resolvedById,
        resolvedAt: this.deps.clock.now(),
        resolvedMessageId: resolvedText?.id ?? null,
      });
      if (created && !resolvedText) {
        const survey = await this.queueIn(tx, tenantId, conversation.id, AutomatedMessageTrigger.CSAT_SURVEY, conversation.id);
        if (survey) {
          queued.push(survey);
          await csat.markRequested(conversation.id, survey.id, this.deps.clock.now());
        } else {
          await csat.markSkipped(conversation.id);
        }
      }
    }
    return () => this.published(queued);
  }

  /**
   * Surveys whose RESOLVED text went out: queue them (once: the survey row is locked and moves
   * on in the same transaction). A FAILED RESOLVED text skips its survey. Called by the worker
   * of every instance.
   */
  async sendDueSurveys(): Promise<number> {
    const due = await surveysReadyToSend(this.deps.db, SURVEY_BATCH);
    let sent = 0;
    for (const { tenantId, conversationId } of due) {
      const survey = await this.deps.db.transaction(async (tx) => {
        const csat = new CsatRepository(tx, tenantId);
        const waiting = await csat.lockWaiting(conversationId);
        if (!waiting) return null;
        if (waiting.resolvedMessageId && waiting.resolvedMessageStatus !== null && !RESOLVED_TEXT_WENT_OUT.has(waiting.resolvedMessageStatus)) {
          await csat.markSkipped(conversationId);
          return null;
        }
        const message = await this.queueIn(tx, tenantId, conversationId, AutomatedMessageTrigger.CSAT_SURVEY, conversationId);
        if (message) await csat.markRequested(conversationId, message.id, this.deps.clock.now());
        else await csat.markSkipped(conversationId);
        return message;
      });
      if (survey) {
        this.published([survey]);
        sent++;
      }
    }
    return sent;
  }

  /** Waits for answers still running (shutdown: before the database closes). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** queueIn in a transaction of its own, events published after commit. */
  private async queueAlone(
    tenantId: string,
    conversationId: string,
    trigger: AutomatedMessageTrigger,
    eventKey: string,
    answersMessageId: string | null = null,
  ): Promise<MessageRow | null> {
    let message: MessageRow | null;
    try {
      message = await this.deps.db.transaction((tx) => this.queueIn(tx, tenantId, conversationId, trigger, eventKey, answersMessageId));
    } catch (err) {
      // Decided at the same moment elsewhere: the other decision's text is the one.
      if (isUniqueViolation(err, 'messages_tenant_idempotency_uq') || isUniqueViolation(err, 'automation_sends_answer_uq')) return null;
      throw err;
    }
    if (message) this.published([message]);
    return message;
  }

  /**
   * Queues the number's enabled text for `trigger` in the caller's transaction, unless: the
   * event was answered already, the contact opted out, the number was removed, there is no
   * enabled text, or the loop guard's bound for the contact's last hour is reached.
   */
  private async queueIn(
    tx: Db,
    tenantId: string,
    conversationId: string,
    trigger: AutomatedMessageTrigger,
    eventKey: string,
    /** The inbound text this answers, if any: one automated answer per text, whichever trigger. */
    answersMessageId: string | null = null,
  ): Promise<MessageRow | null> {
    const sends = new AutomationSendsRepository(tx, tenantId);
    const recipient = await sends.lockRecipient(conversationId);
    const log = { tenantId, conversationId, trigger };
    if (!recipient) return null;
    const idempotencyKey = `auto:${trigger}:${eventKey}`;
    const messages = new MessagesRepository(tx, tenantId);
    if (await messages.findByIdempotencyKey(idempotencyKey)) return null;
    if (answersMessageId && (await sends.answered(answersMessageId))) return null;
    if (recipient.optedOut || recipient.blocked || recipient.numberRemoved) {
      this.deps.logger.debug(
        { ...log, optedOut: recipient.optedOut, blocked: recipient.blocked },
        'automated text not sent: contact opted out or blocked, or number removed',
      );
      return null;
    }
    const [text] = await new AutomatedMessagesRepository(tx, tenantId).findEnabled(recipient.phoneNumberId, [trigger]);
    if (!text) return null;
    const bound = this.deps.config.automations.maxPerContactPerHour;
    if ((await sends.countLastHour(recipient.contactId)) >= bound) {
      this.deps.logger.warn({ ...log, contactId: recipient.contactId, bound }, 'automated text not sent: loop guard (too many to this contact in the last hour)');
      return null;
    }
    const body = renderTemplate(text.body, recipient);
    if (body.length === 0) return null;
    const message = await messages.insertOutbound({
      conversationId,
      twilioAccountId: recipient.twilioAccountId,
      body,
      media: [],
      authorId: null,
      segments: countSegments(body).segments,
      idempotencyKey,
      source: MessageSource.AUTOMATION,
    });
    await this.deps.outbox.enqueue(tx, tenantId, message.id, recipient.phoneNumberId);
    await new ConversationsRepository(tx, tenantId).recordMessage(conversationId, message.id);
    await sends.record(message.id, recipient.contactId, trigger, answersMessageId);
    return message;
  }

  private published(queued: MessageRow[]): void {
    if (queued.length === 0) return;
    for (const m of queued) this.deps.events.publish(messageAddedEvent(m), conversationUpdatedEvent({ id: m.conversationId, tenantId: m.tenantId }));
    this.deps.outbox.notifyEnqueued();
  }
}
