import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import type { TwilioIncomingNumber } from '../../twilio/client.js';
import { twilioCredentials, webhookUrls } from '../twilio-accounts/credentials.js';
import { twilioFailureToAppError } from '../twilio-accounts/twilio-api-errors.js';
import { TwilioAccountsService } from '../twilio-accounts/twilio-accounts.service.js';
import type { TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
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

/** undefined: unchanged; null clears (description, messagingServiceSid, teamId). */
export interface UpdateNumberInput {
  type?: NumberType | null;
  direction?: NumberDirection | null;
  description?: string | null;
  messagingServiceSid?: string | null;
  teamId?: string | null;
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
    // Ownership first: only a number the account's own Twilio API lists can be registered, so no
    // tenant can squat another's number (and have its signed inbound texts dropped).
    const owned = await this.proveOwnership(account, e164, type);
    const remote = owned.kind === 'number' ? owned.number : null;

    let row: PhoneNumberRow;
    try {
      row = await this.numbers.insert({
        twilioAccountId: account.id,
        e164,
        type,
        direction,
        description,
        messagingServiceSid,
        twilioNumberSid: owned.sid,
        teamId,
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
      const smsUrl = webhookUrls(deps.config.publicUrl, account.webhookKey).inbound;
      try {
        if (remote.smsUrl !== smsUrl) {
          await deps.twilio(twilioCredentials(deps.secretBox, account)).updateIncomingNumberSmsUrl(remote.sid, smsUrl);
        }
      } catch (err) {
        await this.numbers.deleteJustInserted(row.id);
        throw twilioFailureToAppError(err, `set the SMS webhook of ${e164}`);
      }
      webhookWarning = webhookWarningFor(remote, messagingServiceSid);
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
    const row = Object.keys(changes).length > 0 ? await this.numbers.update(current.id, changes) : current;
    if (!row) throw notFound('Phone number');
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: row.id, changed: Object.keys(changes) }, 'phone number updated');
    return row;
  }

  /** A team of this tenant (NOT_FOUND otherwise), or null. */
  private async team(teamId: string | null | undefined): Promise<string | null> {
    if (teamId === null || teamId === undefined) return null;
    const team = await new TeamsRepository(this.scope.deps.db, this.scope.tenantId).findById(teamId);
    if (!team) throw notFound('Team');
    return team.id;
  }

  async remove(id: string): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    const row = await this.numbers.remove(id);
    if (!row) throw notFound('Phone number');
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: row.id }, 'phone number removed');
    return true;
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
function webhookWarningFor(remote: TwilioIncomingNumber, messagingServiceSid: string | null): string | null {
  const warnings: string[] = [];
  if (remote.smsApplicationSid) {
    warnings.push(
      `The number is attached to TwiML app ${remote.smsApplicationSid}, so Twilio ignores its SMS URL: detach the app in the Twilio console`,
    );
  }
  if (messagingServiceSid) {
    warnings.push(
      `If Messaging Service ${messagingServiceSid} handles incoming messages itself, set its inbound request URL to this number's webhook`,
    );
  }
  if (!remote.smsCapable) warnings.push('Twilio reports this number as not SMS-capable');
  return warnings.length > 0 ? `${warnings.join('. ')}.` : null;
}
