import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import type { TwilioIncomingNumber } from '../../twilio/client.js';
import { twilioCredentials, webhookUrls } from '../twilio-accounts/credentials.js';
import { twilioFailureToAppError } from '../twilio-accounts/twilio-api-errors.js';
import { TwilioAccountsService } from '../twilio-accounts/twilio-accounts.service.js';
import type { TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import { NumberDirection, NumberType } from './phone-number.enums.js';
import { normalizePhoneNumber, optionalDescription, optionalMessagingServiceSid } from './phone-number-input.js';
import { PhoneNumbersRepository } from './phone-numbers.repository.js';
import type { PhoneNumberRow } from './phone-numbers.schema.js';

export interface AddNumberInput {
  twilioAccountId: string;
  phoneNumber: string;
  type?: NumberType | null;
  direction?: NumberDirection | null;
  description?: string | null;
  messagingServiceSid?: string | null;
  configureTwilioWebhook?: boolean | null;
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
    const configure = input.configureTwilioWebhook === true;

    let remote: TwilioIncomingNumber | null = null;
    if (configure) {
      if (type === NumberType.SHORT_CODE) {
        throw badInput("Short codes are configured by Twilio's short code team, not through the API", 'configureTwilioWebhook');
      }
      remote = await this.lookUpRemote(account, e164);
    }

    let row: PhoneNumberRow;
    try {
      row = await this.numbers.insert({
        twilioAccountId: account.id,
        e164,
        type,
        direction,
        description,
        messagingServiceSid,
        twilioNumberSid: remote?.sid ?? null,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'phone_numbers_active_e164_uq')) {
        throw conflict(`${e164} is already registered; remove it there first`);
      }
      throw err;
    }

    let webhookWarning: string | null = null;
    if (remote) {
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

  async remove(id: string): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    const row = await this.numbers.remove(id);
    if (!row) throw notFound('Phone number');
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: row.id }, 'phone number removed');
    return true;
  }

  private async lookUpRemote(account: TwilioAccountRow, e164: string): Promise<TwilioIncomingNumber> {
    const { deps } = this.scope;
    let remote: TwilioIncomingNumber | null;
    try {
      remote = await deps.twilio(twilioCredentials(deps.secretBox, account)).findIncomingNumber(e164);
    } catch (err) {
      throw twilioFailureToAppError(err, `look ${e164} up in the Twilio account`);
    }
    if (!remote) throw badInput(`${e164} is not a number of Twilio account ${account.accountSid}`, 'phoneNumber');
    return remote;
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
