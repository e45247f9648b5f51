import { twilioAccountChangedEvent } from '../../events/live-events.js';
import type { TenantScope } from '../../shared/deps.js';
import { DomainError, ErrorCode, badInput, conflict, notFound } from '../../shared/errors.js';
import { audit } from '../audit/audit.js';
import { newWebhookKey, openAuthToken, sealAuthToken } from './credentials.js';
import {
  normalizeAcceptedMediaTypes,
  requireReachableApiBaseUrl,
  optionalFriendlyName,
  requireAccountSid,
  requireAuthToken,
} from './twilio-account-input.js';
import { twilioFailureToAppError } from './twilio-api-errors.js';
import { TwilioAccountsRepository, type AccountPatch } from './twilio-accounts.repository.js';
import type { TwilioAccountRow } from './twilio-accounts.schema.js';

export interface ConnectAccountInput {
  accountSid: string;
  authToken: string;
  friendlyName?: string | null;
  apiBaseUrl?: string | null;
  mediaEnabled?: boolean | null;
  acceptedMediaTypes?: string[] | null;
}

export interface UpdateAccountInput {
  friendlyName?: string | null;
  authToken?: string | null;
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
   * Partial update. A new token or API root is proven against the Twilio API first
   * (TWILIO_AUTH_FAILED, and nothing changed, if refused). A new token keeps the old one as the
   * webhooks' fallback: Twilio's rotation is two-step (a secondary token works for the API at
   * once, webhooks stay signed with the old primary until it is promoted), so the old token is
   * accepted until the first webhook that validates with the new one, at most
   * TWILIO_TOKEN_ROTATION_GRACE_SECONDS.
   */
  async update(id: string, input: UpdateAccountInput): Promise<TwilioAccountRow> {
    const { deps, tenantId, user } = this.scope;
    const patch: AccountPatch = {};
    if (input.friendlyName !== undefined) {
      patch.friendlyName = optionalFriendlyName(input.friendlyName) ?? undefined;
    }
    if (input.apiBaseUrl !== undefined) patch.apiBaseUrl = await requireReachableApiBaseUrl(input.apiBaseUrl, deps.config.outbound);
    if (input.mediaEnabled !== undefined) patch.mediaEnabled = input.mediaEnabled ?? true;
    if (input.acceptedMediaTypes !== undefined) patch.acceptedMediaTypes = normalizeAcceptedMediaTypes(input.acceptedMediaTypes) ?? [];
    let newToken: string | null = null;
    if (input.authToken !== undefined) {
      if (input.authToken === null) throw badInput('authToken cannot be cleared; give the new token to rotate it', 'authToken');
      newToken = requireAuthToken(input.authToken);
    }

    const account = await this.require(id);
    if (input.friendlyName !== undefined && patch.friendlyName === undefined) patch.friendlyName = account.accountSid;
    const currentToken = openAuthToken(deps.secretBox, account);
    if (newToken === currentToken) newToken = null;
    const apiBaseUrl = patch.apiBaseUrl ?? account.apiBaseUrl;

    if (newToken !== null || apiBaseUrl !== account.apiBaseUrl) {
      let remote: { sid: string; status: string };
      try {
        remote = await deps.twilio({ accountSid: account.accountSid, authToken: newToken ?? currentToken, apiBaseUrl }).fetchAccount();
      } catch (err) {
        const appError = twilioFailureToAppError(err, newToken ? 'verify the new auth token' : 'verify the account at the new API root');
        deps.logger.warn({ tenantId, twilioAccountId: account.id, code: appError.code, reason: appError.message }, 'twilio account update refused');
        throw appError;
      }
      if (remote.sid !== account.accountSid) {
        throw new DomainError(ErrorCode.TWILIO_AUTH_FAILED, 'The Twilio API answered for another account than this one');
      }
    }
    if (newToken !== null) {
      patch.rotation = {
        authTokenSealed: sealAuthToken(deps.secretBox, tenantId, account.accountSid, newToken),
        previousAuthTokenSealed: account.authTokenSealed,
        previousTokenExpiresAt: new Date(Date.now() + deps.config.tokenRotationGraceSeconds * 1000),
      };
    }

    const updated = await deps.db.transaction(async (tx) => {
      const row = await new TwilioAccountsRepository(tx, tenantId).update(account.id, patch, account.authTokenSealed);
      if (row) {
        const target = { targetType: 'twilio_account', targetId: row.id };
        if (Object.keys(patch).some((k) => k !== 'rotation')) await audit(this.scope).record(tx, { action: 'twilio_account.update', ...target });
        if (patch.rotation) await audit(this.scope).record(tx, { action: 'twilio_account.rotate_token', ...target });
      }
      return row;
    });
    if (!updated) {
      // Disconnected, or another admin rotated the token meanwhile: theirs stands.
      if (patch.rotation) throw conflict('The token was changed by someone else meanwhile; reload and try again');
      throw notFound('Twilio account');
    }
    deps.accountCache.invalidate(updated.webhookKey);
    deps.events.publish(twilioAccountChangedEvent(updated));
    deps.logger.info(
      { tenantId, userId: user.userId, twilioAccountId: account.id, tokenRotated: newToken !== null, fields: Object.keys(patch) },
      'twilio account updated',
    );
    return updated;
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
    const apiBaseUrl = await requireReachableApiBaseUrl(input.apiBaseUrl, deps.config.outbound);
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

    const account = await deps.db.transaction(async (tx) => {
      const upserted = await new TwilioAccountsRepository(tx, tenantId).upsert({
      accountSid,
      authTokenSealed: sealAuthToken(deps.secretBox, tenantId, accountSid, authToken),
      friendlyName: friendlyName ?? (remote.friendlyName?.trim() || accountSid),
      friendlyNameGiven: friendlyName !== null,
      apiBaseUrl,
      mediaEnabled,
      acceptedMediaTypes,
      webhookKey: newWebhookKey(),
      });
      await audit(this.scope).record(tx, { action: 'twilio_account.connect', targetType: 'twilio_account', targetId: upserted.id });
      return upserted;
    });
    // Webhooks served by this instance use the new token at once; others within the cache TTL.
    deps.accountCache.invalidate(account.webhookKey);
    deps.events.publish(twilioAccountChangedEvent(account));
    deps.logger.info({ tenantId, userId: user.userId, twilioAccountId: account.id, accountSid }, 'twilio account connected');
    return account;
  }
}
