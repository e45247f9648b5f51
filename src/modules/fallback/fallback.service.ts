import { and, eq } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from '../../shared/deps.js';
import { PeriodicTask } from '../../shared/periodic-task.js';
import { isValidTwilioSignature } from '../../twilio/signature.js';
import { mayAnswerAutomatically } from '../automations/keywords.js';
import { contacts } from '../contacts/contacts.schema.js';
import { InboundService } from '../inbound/inbound.service.js';
import { param, parseInboundSms, WebhookInputError, type WebhookParams } from '../inbound/webhook-params.js';
import { FallbackDirectory, type FallbackAccount } from './fallback-directory.js';
import { FallbackAnswersRepository, type FallbackVerdict } from './fallback.repository.js';
import { Spool } from './spool.js';

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export interface FallbackRequest {
  webhookKey: string;
  /** The URL we advertised (PUBLIC_URL + path and query as received): what Twilio signed. */
  url: string;
  signature: string | undefined;
  params: WebhookParams;
}

export type FallbackAnswer = { status: 200; twiml: string } | { status: 400 | 403 | 404 | 503; text: string };

/** How long the fallback waits for the database to say whether the contact opted out. */
const OPT_OUT_CHECK_MS = 1000;
const ANSWERED_MAX = 10_000;
const HOUR_MS = 3600_000;

/**
 * Twilio's fallback URL (the numbers' SmsFallbackUrl), called when our inbound webhook failed
 * (database down, an error, a timeout). It must work without the database: the account and the
 * FAILURE texts come from memory (FallbackDirectory); the posted message, once its signature is
 * proven, goes to the durable spool and is ingested (keyed on MessageSid, so exactly once) when
 * the database answers again. The answer is TwiML <Message> with the number's FAILURE text —
 * the only TwiML with text we ever send — or empty TwiML.
 */
export class FallbackService {
  /** MessageSids answered with a text, so a repeated fallback call does not text twice. */
  private readonly answered = new Map<string, number>();
  /**
   * In-memory loop guard of FAILURE texts per (account, contact), within the hour: decides only
   * while the database is unreachable (the shared guard, FallbackAnswersRepository, decides otherwise).
   */
  private readonly sentTo = new Map<string, number[]>();
  private running: {
    deps: AppDeps;
    directory: FallbackDirectory;
    spool: Spool;
    ingester: PeriodicTask;
    refresher: PeriodicTask;
  } | null = null;

  private get state() {
    if (!this.running) throw new Error('FallbackService used before start(deps)');
    return this.running;
  }

  private get deps(): AppDeps {
    return this.state.deps;
  }

  get directory(): FallbackDirectory {
    return this.state.directory;
  }

  get spool(): Spool {
    return this.state.spool;
  }

  /** Loads accounts and FAILURE texts, then refreshes them and ingests the spool in the background. */
  async start(deps: AppDeps): Promise<void> {
    const { pollMs, failureCacheRefreshMs, spoolDir } = deps.config.automations;
    const directory = new FallbackDirectory(deps);
    this.running = {
      deps,
      directory,
      spool: new Spool(spoolDir),
      ingester: new PeriodicTask('fallback-spool', pollMs, () => this.ingestSpool(), deps.logger),
      refresher: new PeriodicTask('fallback-directory', failureCacheRefreshMs, () => directory.refresh(), deps.logger),
    };
    try {
      await directory.refresh();
    } catch (err) {
      deps.logger.error({ err }, 'fallback: could not load accounts and FAILURE texts; retrying in the background');
    }
    deps.automations.onTextsChanged(() => void directory.refresh().catch(() => {}));
    this.running.refresher.start();
    this.running.ingester.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running.deps.automations.onTextsChanged(null);
    await this.running.refresher.stop();
    await this.running.ingester.stop();
  }

  async handle(req: FallbackRequest): Promise<FallbackAnswer> {
    if (!this.running) return { status: 503, text: 'Service unavailable' };
    const log = this.deps.logger;
    let account = this.directory.get(req.webhookKey);
    if (!account) {
      // A new account this instance has not loaded yet: only the database can tell.
      try {
        await this.directory.refresh();
      } catch (err) {
        log.error({ err }, 'fallback: unknown webhook key and the database cannot be reached');
        return { status: 503, text: 'Service unavailable' };
      }
      account = this.directory.get(req.webhookKey);
      if (!account) return { status: 404, text: 'Unknown webhook' };
    }
    const where = { tenantId: account.tenantId, twilioAccountId: account.id, webhook: 'fallback' };
    if (!isValidTwilioSignature(account.authToken, req.signature, req.url, req.params)) {
      log.warn({ ...where, reason: 'bad or missing signature' }, 'webhook refused');
      return { status: 403, text: 'Forbidden' };
    }
    if (param(req.params, 'AccountSid') !== account.accountSid) {
      log.warn({ ...where, reason: 'AccountSid does not match the account' }, 'webhook refused');
      return { status: 403, text: 'Forbidden' };
    }
    let sms;
    try {
      sms = parseInboundSms(req.params, account);
    } catch (err) {
      if (err instanceof WebhookInputError) return { status: 400, text: err.message };
      throw err;
    }

    try {
      await this.spool.put({
        webhookKey: account.webhookKey,
        accountId: account.id,
        tenantId: account.tenantId,
        messageSid: sms.messageSid,
        params: req.params,
        receivedAt: new Date().toISOString(),
      });
    } catch (err) {
      // Still answer the customer; the operator must see this: the text exists only in Twilio's logs.
      log.error({ ...where, err, messageSid: sms.messageSid }, 'fallback: could not spool the message');
    }
    log.warn({ ...where, messageSid: sms.messageSid, errorCode: param(req.params, 'ErrorCode') ?? null }, 'inbound message taken by the fallback URL');
    this.state.ingester.kick();

    const text = account.failureTexts.get(sms.to);
    if (!text || !mayAnswerAutomatically(sms.body, param(req.params, 'OptOutType'))) return { status: 200, twiml: EMPTY_TWIML };
    if (this.answered.has(sms.messageSid)) return { status: 200, twiml: EMPTY_TWIML };
    if (await this.optedOut(account, sms.from)) return { status: 200, twiml: EMPTY_TWIML };
    // The loop guard and "one answer per MessageSid" are shared by every instance through the
    // database; when it cannot answer in time (usually why we are here), this instance's memory decides.
    const verdict = (await this.sharedVerdict(account, sms.from, sms.messageSid)) ?? this.memoryVerdict(account, sms.from, sms.messageSid);
    if (verdict === 'loop-guard') {
      log.warn({ ...where, bound: this.deps.config.automations.maxPerContactPerHour }, 'FAILURE text not sent: loop guard');
      return { status: 200, twiml: EMPTY_TWIML };
    }
    if (verdict === 'already-answered') return { status: 200, twiml: EMPTY_TWIML };
    this.remember(sms.messageSid);
    return { status: 200, twiml: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeXml(text)}</Message></Response>` };
  }

  /**
   * Stores spooled messages through the ordinary inbound path (without automated answers: the
   * FAILURE text answered them). The first database failure ends the round; the next round
   * retries. A message already stored (Twilio's main webhook got through after all, or another
   * instance ingested it) is a duplicate: the file goes either way.
   */
  async ingestSpool(): Promise<number> {
    const names = await this.spool.list();
    let stored = 0;
    for (const name of names) {
      let message;
      try {
        message = await this.spool.read(name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.deps.logger.error({ err, file: name }, 'fallback spool: unreadable file moved to rejected/');
        await this.spool.reject(name);
        continue;
      }
      let account;
      try {
        account = await this.deps.accountCache.get(message.webhookKey);
        if (!account) {
          this.deps.logger.error({ file: name, twilioAccountId: message.accountId }, 'fallback spool: the account is gone; file moved to rejected/');
          await this.spool.reject(name);
          continue;
        }
        const outcome = await new InboundService(this.deps, account, this.deps.logger as unknown as FastifyBaseLogger).receiveMessage(message.params, {
          automatedAnswer: false,
        });
        this.deps.logger.info({ file: name, outcome: outcome.kind, tenantId: account.tenantId }, 'fallback spool: message ingested');
        if (outcome.kind === 'stored') stored++;
      } catch (err) {
        if (err instanceof WebhookInputError) {
          this.deps.logger.error({ err, file: name }, 'fallback spool: malformed message moved to rejected/');
          await this.spool.reject(name);
          continue;
        }
        this.deps.logger.warn({ err, pending: names.length }, 'fallback spool: database not reachable yet; will retry');
        return stored;
      }
      await this.spool.remove(name);
    }
    return stored;
  }

  /** The database's verdict (shared by every instance), or null when it cannot tell within OPT_OUT_CHECK_MS. */
  private async sharedVerdict(account: FallbackAccount, contact: string, messageSid: string): Promise<FallbackVerdict | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), OPT_OUT_CHECK_MS);
    });
    try {
      const decision = new FallbackAnswersRepository(this.deps.db, account.tenantId).decide(
        account.id,
        contact,
        messageSid,
        this.deps.config.automations.maxPerContactPerHour,
      );
      decision.catch(() => {}); // a late failure after the timeout won
      const verdict = await Promise.race([decision, timeout]);
      // Counted here too, so that a later outage's in-memory guard starts from what this instance sent.
      if (verdict === 'answer') this.withinLoopGuard(account, contact);
      return verdict;
    } catch (err) {
      this.deps.logger.warn({ err, tenantId: account.tenantId }, 'fallback: shared loop guard unavailable; deciding in memory');
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** This instance's own guard: used while the database cannot be reached. */
  private memoryVerdict(account: FallbackAccount, contact: string, messageSid: string): FallbackVerdict {
    if (this.answered.has(messageSid)) return 'already-answered';
    return this.withinLoopGuard(account, contact) ? 'answer' : 'loop-guard';
  }

  private withinLoopGuard(account: FallbackAccount, contact: string): boolean {
    const key = `${account.id}:${contact}`;
    const now = Date.now();
    const recent = (this.sentTo.get(key) ?? []).filter((t) => t > now - HOUR_MS);
    if (recent.length >= this.deps.config.automations.maxPerContactPerHour) {
      this.sentTo.set(key, recent);
      return false;
    }
    recent.push(now);
    this.sentTo.set(key, recent);
    if (this.sentTo.size > ANSWERED_MAX) this.sentTo.delete(this.sentTo.keys().next().value!);
    return true;
  }

  private remember(messageSid: string): void {
    this.answered.set(messageSid, Date.now());
    if (this.answered.size > ANSWERED_MAX) this.answered.delete(this.answered.keys().next().value!);
  }

  /**
   * Asks the database, briefly, whether the contact opted out. When it cannot tell (that is
   * usually why we are here), the text goes: Twilio itself refuses to deliver to a number that
   * texted STOP to this sender.
   */
  private async optedOut(account: FallbackAccount, phone: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), OPT_OUT_CHECK_MS);
    });
    try {
      const check = this.deps.db
        .select({ optedOut: contacts.optedOut })
        .from(contacts)
        .where(and(eq(contacts.tenantId, account.tenantId), eq(contacts.phoneNumber, phone)))
        .limit(1)
        .then(([row]) => row?.optedOut === true);
      check.catch(() => {}); // a late failure after the timeout won
      return await Promise.race([check, timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}
