import { twilioAccountChangedEvent } from '../../events/live-events.js';
import type { TenantScope } from '../../shared/deps.js';
import { DomainError, ErrorCode, badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import type { IncomingNumberSmsSettings, TwilioIncomingNumber } from '../../twilio/client.js';
import { TwilioAccountsRepository } from '../twilio-accounts/twilio-accounts.repository.js';
import { twilioCredentials, webhookUrls } from '../twilio-accounts/credentials.js';
import { twilioFailureToAppError } from '../twilio-accounts/twilio-api-errors.js';
import { TwilioAccountsService } from '../twilio-accounts/twilio-accounts.service.js';
import type { TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import { OperatingHoursService } from '../operating-hours/operating-hours.service.js';
import { audit } from '../audit/audit.js';
import { NumberDirection, NumberType } from './phone-number.enums.js';
import { normalizePhoneNumber, optionalDescription, optionalMessagingServiceSid } from './phone-number-input.js';
import { PhoneNumbersRepository, type PhoneNumberChanges } from './phone-numbers.repository.js';
import { TeamsRepository } from '../teams/teams.repository.js';
import type { PhoneNumberRow } from './phone-numbers.schema.js';

export interface AddNumberInput {
  twilioAccountId: string;
  phoneNumber: string;
  type?: NumberType | null;
  direction?: NumberDirection | null;
  description?: string | null;
  messagingServiceSid?: string | null;
  configureTwilioWebhook?: boolean | null;
  teamId?: string | null;
}

/** undefined: unchanged; null clears (description, messagingServiceSid, teamId, operatingHoursId). */
export interface UpdateNumberInput {
  type?: NumberType | null;
  direction?: NumberDirection | null;
  description?: string | null;
  messagingServiceSid?: string | null;
  teamId?: string | null;
  /** The number is closed outside these hours; null: always open. */
  operatingHoursId?: string | null;
}

/** A stored number plus what the admin should know about its Twilio configuration. */
export type AddedPhoneNumber = PhoneNumberRow & { webhookWarning: string | null };

export class PhoneNumbersService {
  private readonly numbers: PhoneNumbersRepository;

  constructor(private readonly scope: TenantScope) {
    this.numbers = new PhoneNumbersRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<PhoneNumberRow[]> {
    return this.numbers.listActive();
  }

  listByAccounts(accountIds: readonly string[]): Promise<PhoneNumberRow[]> {
    return this.numbers.listActiveByAccounts(accountIds);
  }

  /**
   * Registers one of the account's numbers. With configureTwilioWebhook the number must exist in
   * the Twilio account (else BAD_USER_INPUT, nothing stored) and its SmsUrl is pointed at the
   * account's inbound URL; a failure there undoes the registration.
   */
  async add(input: AddNumberInput): Promise<AddedPhoneNumber> {
    const { deps, tenantId, user } = this.scope;
    const { e164, type } = normalizePhoneNumber(input.phoneNumber, input.type);
    const direction = input.direction ?? NumberDirection.INBOUND_OUTBOUND;
    const description = optionalDescription(input.description);
    const messagingServiceSid = optionalMessagingServiceSid(input.messagingServiceSid);
    const account = await new TwilioAccountsService(this.scope).require(input.twilioAccountId);
    const teamId = await this.team(input.teamId);
    const configure = input.configureTwilioWebhook === true;

    if (configure && type === NumberType.SHORT_CODE) {
      throw badInput("Short codes are configured by Twilio's short code team, not through the API", 'configureTwilioWebhook');
    }
    if (configure && messagingServiceSid) {
      // Before anything is changed anywhere: the service must be one of the account's.
      await this.requireMessagingService(account, messagingServiceSid);
    }
    // Ownership first: only a number the account's own Twilio API lists can be registered, so no
    // tenant can squat another's number (and have its signed inbound texts dropped).
    const owned = await this.proveOwnership(account, e164, type);
    const remote = owned.kind === 'number' ? owned.number : null;

    let row: PhoneNumberRow;
    try {
      row = await deps.db.transaction(async (tx) => {
        const inserted = await new PhoneNumbersRepository(tx, tenantId).insert({
          twilioAccountId: account.id,
          e164,
          type,
          direction,
          description,
          messagingServiceSid,
          twilioNumberSid: owned.sid,
          teamId,
          configuredSmsUrl: configure && owned.kind === 'number' ? webhookUrls(deps.config.publicUrl, account.webhookKey).inbound : null,
          // Set together with the SMS URL below, so removing the number clears it at Twilio too.
          configuredSmsFallbackUrl: configure && owned.kind === 'number' ? webhookUrls(deps.config.publicUrl, account.webhookKey).fallback : null,
        });
        await audit(this.scope).record(tx, { action: 'phone_number.add', targetType: 'phone_number', targetId: inserted.id });
        return inserted;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'phone_numbers_active_e164_uq')) {
        // Says nothing of where: the other holder may be another tenant.
        throw conflict('This number is already registered; it must be removed where it is registered before it can be added');
      }
      throw err;
    }

    let webhookWarning: string | null = null;
    if (remote && configure) {
      const urls = webhookUrls(deps.config.publicUrl, account.webhookKey);
      try {
        // The fallback URL answers the FAILURE text and spools the message when we cannot take it in.
        await deps.twilio(twilioCredentials(deps.secretBox, account)).updateIncomingNumberSmsUrl(remote.sid, urls.inbound, urls.fallback);
      } catch (err) {
        await this.numbers.deleteJustInserted(row.id);
        throw twilioFailureToAppError(err, `set the SMS webhook of ${e164}`);
      }
      const serviceOutcome = messagingServiceSid
        ? await this.configureMessagingService(account, messagingServiceSid, urls.inbound, row.id)
        : null;
      webhookWarning = webhookWarningFor(remote, serviceOutcome);
      if (webhookWarning) {
        deps.logger.warn({ tenantId, phoneNumberId: row.id, twilioNumberSid: remote.sid, warning: webhookWarning }, 'number webhook may not apply');
      }
    }
    deps.logger.info(
      { tenantId, userId: user.userId, phoneNumberId: row.id, twilioAccountId: account.id, configured: configure },
      'phone number added',
    );
    return { ...row, webhookWarning };
  }

  /** Validated as addPhoneNumber validates; nothing changes when any field is refused. */
  async update(id: string, input: UpdateNumberInput): Promise<PhoneNumberRow> {
    const { deps, tenantId, user } = this.scope;
    const current = await this.numbers.findById(id);
    if (!current || current.removedAt) throw notFound('Phone number');
    const changes: PhoneNumberChanges = {};
    if (input.type !== undefined) {
      if (input.type === null) throw badInput('type cannot be cleared', 'type');
      // The same rule as when adding: a short code is 5–6 digits, anything else a full number.
      if (normalizePhoneNumber(current.e164, input.type).type !== input.type) throw badInput(`${current.e164} cannot be a ${input.type}`, 'type');
      changes.type = input.type;
    }
    if (input.direction !== undefined) {
      if (input.direction === null) throw badInput('direction cannot be cleared', 'direction');
      changes.direction = input.direction;
    }
    if (input.description !== undefined) changes.description = optionalDescription(input.description);
    if (input.messagingServiceSid !== undefined) changes.messagingServiceSid = optionalMessagingServiceSid(input.messagingServiceSid);
    if (input.teamId !== undefined) changes.teamId = await this.team(input.teamId);
    if (input.operatingHoursId !== undefined) changes.operatingHoursId = await this.operatingHours(input.operatingHoursId);
    const row =
      Object.keys(changes).length > 0
        ? await deps.db.transaction(async (tx) => {
            const updated = await new PhoneNumbersRepository(tx, tenantId).update(current.id, changes);
            if (updated) await audit(this.scope).record(tx, { action: 'phone_number.update', targetType: 'phone_number', targetId: updated.id });
            return updated;
          })
        : current;
    if (!row) throw notFound('Phone number');
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: row.id, changed: Object.keys(changes) }, 'phone number updated');
    return row;
  }

  /** A schedule of this tenant (NOT_FOUND otherwise, another tenant's included), or null. */
  private async operatingHours(operatingHoursId: string | null): Promise<string | null> {
    if (operatingHoursId === null) return null;
    return (await new OperatingHoursService(this.scope).require(operatingHoursId)).id;
  }

  /** A team of this tenant (NOT_FOUND otherwise), or null. */
  private async team(teamId: string | null | undefined): Promise<string | null> {
    if (teamId === null || teamId === undefined) return null;
    const team = await new TeamsRepository(this.scope.deps.db, this.scope.tenantId).findById(teamId);
    if (!team) throw notFound('Team');
    return team.id;
  }

  /**
   * Soft delete. When configureTwilioWebhook pointed the number at us, its SmsUrl (and
   * SmsFallbackUrl) are cleared at Twilio first, if they still are ours: a transient Twilio
   * failure changes nothing here (SERVICE_UNAVAILABLE, try again); refused credentials or a
   * number the account no longer has do not block the removal.
   */
  async remove(id: string): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    const number = await this.numbers.findById(id);
    if (!number || number.removedAt) throw notFound('Phone number');
    const account = await new TwilioAccountsRepository(this.scope.deps.db, this.scope.tenantId).findIncludingDisconnected(number.twilioAccountId);
    if (account) await this.undoTwilioSettings(account, [number]);
    const row = await deps.db.transaction(async (tx) => {
      const removed = await new PhoneNumbersRepository(tx, tenantId).remove(id);
      if (removed) await audit(this.scope).record(tx, { action: 'phone_number.remove', targetType: 'phone_number', targetId: removed.id });
      return removed;
    });
    if (!row) throw notFound('Phone number');
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: row.id }, 'phone number removed');
    return true;
  }

  /**
   * disconnectTwilioAccount: the numbers' Twilio settings we made are undone first (as for
   * remove), then, in one transaction, the account is marked disconnected (its webhook URLs
   * answer 404) and its numbers removed. Messages still queued on them fail when the dispatcher
   * reaches them ("the Twilio account was disconnected"); conversations and messages stay.
   */
  async disconnectAccount(twilioAccountId: string): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    const account = await new TwilioAccountsService(this.scope).require(twilioAccountId);
    const active = await this.numbers.listActiveByAccounts([account.id]);
    await this.undoTwilioSettings(account, active);
    const result = await deps.db.transaction(async (tx) => {
      const disconnected = await new TwilioAccountsRepository(tx, tenantId).markDisconnected(account.id);
      if (!disconnected) return null;
      const removed = await new PhoneNumbersRepository(tx, tenantId).removeAllOfAccount(account.id);
      await audit(this.scope).record(tx, { action: 'twilio_account.disconnect', targetType: 'twilio_account', targetId: account.id });
      return { disconnected, removed };
    });
    if (!result) throw notFound('Twilio account');
    deps.accountCache.invalidate(account.webhookKey);
    deps.events.publish(twilioAccountChangedEvent(account));
    deps.logger.info(
      { tenantId, userId: user.userId, twilioAccountId: account.id, numbersRemoved: result.removed.length },
      'twilio account disconnected',
    );
    return true;
  }

  private async requireMessagingService(account: TwilioAccountRow, serviceSid: string): Promise<void> {
    const { deps } = this.scope;
    let found;
    try {
      found = await deps.twilio(twilioCredentials(deps.secretBox, account)).fetchMessagingService(serviceSid);
    } catch (err) {
      throw twilioFailureToAppError(err, `look Messaging Service ${serviceSid} up`);
    }
    if (!found) throw badInput(`Messaging Service ${serviceSid} is not a service of Twilio account ${account.accountSid}`, 'messagingServiceSid');
  }

  /**
   * A Messaging Service's inbound request URL applies to every sender of the service (and empty
   * turns inbound off for all of them), and is ignored while "use inbound webhook on number" is
   * on. So the service is pointed at us (and that switch turned off) only when every one of its
   * senders is registered here on this account; otherwise each number keeps its own SmsUrl
   * and the answer says why (null: the service now sends inbound here). A failure here undoes
   * the registration like a failed SmsUrl update.
   */
  private async configureMessagingService(
    account: TwilioAccountRow,
    serviceSid: string,
    inboundUrl: string,
    justAddedId: string,
  ): Promise<string | null> {
    const { deps } = this.scope;
    const api = deps.twilio(twilioCredentials(deps.secretBox, account));
    try {
      const service = await api.fetchMessagingService(serviceSid);
      if (!service) {
        await this.numbers.deleteJustInserted(justAddedId);
        throw badInput(`Messaging Service ${serviceSid} is not a service of Twilio account ${account.accountSid}`, 'messagingServiceSid');
      }
      const senders = await api.listMessagingServiceSenders(serviceSid);
      const registered = new Set((await this.numbers.listActiveByAccounts([account.id])).map((n) => n.e164));
      const missing = senders.filter((s) => !registered.has(s));
      if (missing.length > 0) {
        const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
        return (
          `Messaging Service ${serviceSid} was left as it is: its inbound settings would apply to every sender, and ${shown} ` +
          `${missing.length === 1 ? 'is' : 'are'} not registered here. This number's own SMS URL was set instead` +
          (service.useInboundWebhookOnNumber ? '' : ", but the service ignores it while its 'use inbound webhook on number' setting is off")
        );
      }
      if (service.inboundRequestUrl !== inboundUrl || service.useInboundWebhookOnNumber) {
        await api.updateMessagingService(serviceSid, { inboundRequestUrl: inboundUrl, inboundMethod: 'POST', useInboundWebhookOnNumber: false });
      }
      return null;
    } catch (err) {
      if (err instanceof DomainError) throw err;
      await this.numbers.deleteJustInserted(justAddedId);
      throw twilioFailureToAppError(err, `configure Messaging Service ${serviceSid}`);
    }
  }

  /** Clears, at Twilio, the SmsUrl / SmsFallbackUrl we set on these numbers, when they are still ours. */
  private async undoTwilioSettings(account: TwilioAccountRow, numbers: readonly PhoneNumberRow[]): Promise<void> {
    const { deps, tenantId } = this.scope;
    const ours = numbers.filter((n) => n.twilioNumberSid && (n.configuredSmsUrl || n.configuredSmsFallbackUrl));
    if (ours.length === 0) return;
    const api = deps.twilio(twilioCredentials(deps.secretBox, account));
    for (const number of ours) {
      try {
        const remote = await api.fetchIncomingNumber(number.twilioNumberSid!);
        if (!remote) continue; // released from the account: nothing of ours is left there
        const settings: IncomingNumberSmsSettings = {};
        if (number.configuredSmsUrl && remote.smsUrl === number.configuredSmsUrl) settings.smsUrl = '';
        if (number.configuredSmsFallbackUrl && remote.smsFallbackUrl === number.configuredSmsFallbackUrl) settings.smsFallbackUrl = '';
        if (Object.keys(settings).length > 0) await api.updateIncomingNumber(number.twilioNumberSid!, settings);
      } catch (err) {
        const appError = twilioFailureToAppError(err, `clear the SMS webhook of ${number.e164} at Twilio`);
        if (appError.code === ErrorCode.TWILIO_AUTH_FAILED) {
          // The credentials no longer work: nothing can be undone through them; go on.
          deps.logger.warn({ tenantId, phoneNumberId: number.id }, 'could not clear the number webhook at Twilio: credentials refused');
          continue;
        }
        throw appError;
      }
    }
  }

  /**
   * The number as the account's Twilio API lists it: IncomingPhoneNumbers filtered by PhoneNumber
   * (a pattern filter, so the client compares exactly), or for short codes /SMS/ShortCodes.json.
   */
  private async proveOwnership(
    account: TwilioAccountRow,
    e164: string,
    type: NumberType,
  ): Promise<{ kind: 'number'; number: TwilioIncomingNumber; sid: string } | { kind: 'short-code'; sid: string }> {
    const { deps } = this.scope;
    const api = deps.twilio(twilioCredentials(deps.secretBox, account));
    try {
      if (type === NumberType.SHORT_CODE) {
        const code = await api.findShortCode(e164);
        if (code) return { kind: 'short-code', sid: code.sid };
      } else {
        const number = await api.findIncomingNumber(e164);
        if (number) return { kind: 'number', number, sid: number.sid };
      }
    } catch (err) {
      throw twilioFailureToAppError(err, `look ${e164} up in the Twilio account`);
    }
    throw badInput(`${e164} is not a number of Twilio account ${account.accountSid}`, 'phoneNumber');
  }
}

/** Twilio ignores a number's SmsUrl in these cases; the admin must change it in the console. */
function webhookWarningFor(remote: TwilioIncomingNumber, serviceWarning: string | null): string | null {
  const warnings: string[] = [];
  if (remote.smsApplicationSid) {
    warnings.push(
      `The number is attached to TwiML app ${remote.smsApplicationSid}, so Twilio ignores its SMS URL: detach the app in the Twilio console`,
    );
  }
  if (serviceWarning) warnings.push(serviceWarning);
  if (!remote.smsCapable) warnings.push('Twilio reports this number as not SMS-capable');
  return warnings.length > 0 ? `${warnings.join('. ')}.` : null;
}
