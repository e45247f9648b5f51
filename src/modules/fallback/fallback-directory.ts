import { and, eq, isNull } from 'drizzle-orm';
import type { AppDeps } from '../../shared/deps.js';
import { AutomatedMessageTrigger } from '../automations/automation.enums.js';
import { automatedMessages } from '../automations/automations.schema.js';
import { renderTemplate } from '../automations/placeholders.js';
import type { WebhookAccount } from '../twilio-accounts/account-cache.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { openAuthToken } from '../twilio-accounts/credentials.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';

/** What the fallback URL needs of an account, held in memory: it must work with the database down. */
export interface FallbackAccount extends WebhookAccount {
  webhookKey: string;
  /** Rendered FAILURE texts by our number (E.164); only enabled ones. */
  failureTexts: ReadonlyMap<string, string>;
}

/**
 * An in-memory copy of every account (token opened) and every enabled FAILURE text, refreshed
 * from the database every FALLBACK_CACHE_REFRESH_MS and at once in this instance when a text
 * changes. When a refresh fails (the database is down) the last copy stays: that is its point.
 */
export class FallbackDirectory {
  private byKey = new Map<string, FallbackAccount>();
  private refreshing: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: AppDeps) {}

  get(webhookKey: string): FallbackAccount | undefined {
    return this.byKey.get(webhookKey);
  }

  /** Reloads everything; concurrent calls share one load, and a call during a load runs another after it. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          this.byKey = await this.load();
        } while (this.again);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async load(): Promise<Map<string, FallbackAccount>> {
    const { db, secretBox, logger } = this.deps;
    const accounts = await db
      .select({ account: twilioAccounts, tenantName: tenants.name })
      .from(twilioAccounts)
      .innerJoin(tenants, eq(tenants.id, twilioAccounts.tenantId));
    const texts = await db
      .select({ accountId: phoneNumbers.twilioAccountId, e164: phoneNumbers.e164, body: automatedMessages.body })
      .from(automatedMessages)
      .innerJoin(phoneNumbers, and(eq(phoneNumbers.id, automatedMessages.phoneNumberId), eq(phoneNumbers.tenantId, automatedMessages.tenantId)))
      .where(and(eq(automatedMessages.trigger, AutomatedMessageTrigger.FAILURE), eq(automatedMessages.enabled, true), isNull(phoneNumbers.removedAt)));

    const next = new Map<string, FallbackAccount>();
    for (const { account, tenantName } of accounts) {
      let authToken: string;
      try {
        authToken = openAuthToken(secretBox, account);
      } catch (err) {
        logger.warn({ err, twilioAccountId: account.id }, 'fallback: cannot open the auth token of an account (ENCRYPTION_KEY changed?)');
        continue;
      }
      const failureTexts = new Map<string, string>();
      for (const t of texts) {
        if (t.accountId === account.id) failureTexts.set(t.e164, renderTemplate(t.body, { tenantName, contactName: null, agentName: null }));
      }
      next.set(account.webhookKey, {
        id: account.id,
        tenantId: account.tenantId,
        accountSid: account.accountSid,
        apiBaseUrl: account.apiBaseUrl,
        authToken,
        // During a token rotation the fallback URL accepts the old token too, as the webhook does.
        previousAuthToken: account.previousAuthTokenSealed
          ? openAuthToken(secretBox, { ...account, authTokenSealed: account.previousAuthTokenSealed })
          : null,
        previousTokenExpiresAt: account.previousTokenExpiresAt?.getTime() ?? null,
        mediaEnabled: account.mediaEnabled,
        acceptedMediaTypes: Object.freeze([...account.acceptedMediaTypes]),
        webhookKey: account.webhookKey,
        failureTexts,
      });
    }
    return next;
  }
}
