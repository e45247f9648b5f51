import type { TenantScope } from '../../shared/deps.js';
import { DomainError, ErrorCode, badInput, notFound } from '../../shared/errors.js';
import { newWebhookKey, sealAuthToken } from './credentials.js';
import {
  normalizeAcceptedMediaTypes,
  normalizeApiBaseUrl,
  optionalFriendlyName,
  requireAccountSid,
  requireAuthToken,
} from './twilio-account-input.js';
import { twilioFailureToAppError } from './twilio-api-errors.js';
import { refuseResolvedHost, refuseUrl } from '../../shared/outbound-guard.js';
import { TwilioAccountsRepository } from './twilio-accounts.repository.js';
import type { TwilioAccountRow } from './twilio-accounts.schema.js';

export interface ConnectAccountInput {
  accountSid: string;
  authToken: string;
  friendlyName?: string | null;
  apiBaseUrl?: string | null;
  mediaEnabled?: boolean | null;
  acceptedMediaTypes?: string[] | null;
}

export class TwilioAccountsService {
  private readonly accounts: TwilioAccountsRepository;

  constructor(private readonly scope: TenantScope) {
    this.accounts = new TwilioAccountsRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<TwilioAccountRow[]> {
    return this.accounts.list();
  }

  /** The caller's account, or NOT_FOUND (also for another tenant's id: no existence leak). */
  async require(id: string): Promise<TwilioAccountRow> {
    const account = await this.accounts.findById(id);
    if (!account) throw notFound('Twilio account');
    return account;
  }

  /**
   * An API root must lead where Twilio can be (see src/shared/outbound-guard.ts): https to public
   * addresses in production, or a host on TWILIO_API_ALLOWED_HOSTS. Checked now (the name resolved
   * once) and again on every connection the client makes, so a name that later resolves inward
   * is refused at send time too.
   */
  private async vetApiBaseUrl(apiBaseUrl: string): Promise<string> {
    const policy = this.scope.deps.config.outbound;
    const url = new URL(apiBaseUrl);
    const refused = refuseUrl(url, policy) ?? (await refuseResolvedHost(url.hostname, policy));
    if (refused) throw badInput(`apiBaseUrl ${refused}`, 'apiBaseUrl');
    return apiBaseUrl;
  }

  /**
   * Proves the SID/token pair against the Twilio API before storing anything. Re-connecting a
   * SID of this tenant replaces its token and settings and keeps its webhook key (the URLs
   * already configured in Twilio stay valid).
   */
  async connect(input: ConnectAccountInput): Promise<TwilioAccountRow> {
    const { deps, tenantId, user } = this.scope;
    const accountSid = requireAccountSid(input.accountSid);
    const authToken = requireAuthToken(input.authToken);
    const friendlyName = optionalFriendlyName(input.friendlyName);
    const apiBaseUrl = await this.vetApiBaseUrl(normalizeApiBaseUrl(input.apiBaseUrl));
    const acceptedMediaTypes = normalizeAcceptedMediaTypes(input.acceptedMediaTypes);
    const mediaEnabled = input.mediaEnabled ?? null;

    let remote: { sid: string; status: string; friendlyName: string };
    try {
      remote = await deps.twilio({ accountSid, authToken, apiBaseUrl }).fetchAccount();
    } catch (err) {
      const appError = twilioFailureToAppError(err, 'verify the Twilio account');
      deps.logger.warn({ tenantId, accountSid, apiBaseUrl, code: appError.code, reason: appError.message }, 'twilio account check failed');
      throw appError;
    }
    if (remote.sid !== accountSid) {
      // A compatible API answering for another account: do not trust the pair.
      throw new DomainError(ErrorCode.TWILIO_AUTH_FAILED, 'The Twilio API answered for another account than accountSid');
    }
    const status = (remote.status ?? '').toLowerCase();
    if (status !== 'active') {
      throw badInput(`The Twilio account is ${status.slice(0, 40) || 'not active'}; only active accounts can be connected`, 'accountSid');
    }

    const account = await this.accounts.upsert({
      accountSid,
      authTokenSealed: sealAuthToken(deps.secretBox, tenantId, accountSid, authToken),
      friendlyName: friendlyName ?? (remote.friendlyName?.trim() || accountSid),
      friendlyNameGiven: friendlyName !== null,
      apiBaseUrl,
      mediaEnabled,
      acceptedMediaTypes,
      webhookKey: newWebhookKey(),
    });
    // Webhooks served by this instance use the new token at once; others within the cache TTL.
    deps.accountCache.invalidate(account.webhookKey);
    deps.logger.info({ tenantId, userId: user.userId, twilioAccountId: account.id, accountSid }, 'twilio account connected');
    return account;
  }
}
