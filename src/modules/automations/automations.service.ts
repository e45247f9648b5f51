import type { TenantScope } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { PhoneNumbersRepository } from '../phone-numbers/phone-numbers.repository.js';
import type { AutomatedMessageTrigger } from './automation.enums.js';
import { AutomatedMessagesRepository } from './automations.repository.js';
import type { AutomatedMessageRow } from './automations.schema.js';
import { CsatRepository } from './csat.repository.js';
import { validateTemplate } from './placeholders.js';

export interface SetAutomatedMessageArgs {
  phoneNumberId: string;
  trigger: AutomatedMessageTrigger;
  body: string;
  enabled: boolean;
}

/** The admin side of automated messages, and the survey figures. */
export class AutomationsService {
  private readonly texts: AutomatedMessagesRepository;

  constructor(private readonly scope: TenantScope) {
    this.texts = new AutomatedMessagesRepository(scope.deps.db, scope.tenantId);
  }

  /** Creates or replaces the number's text for the trigger. */
  async set(input: SetAutomatedMessageArgs): Promise<AutomatedMessageRow> {
    const { deps, tenantId, user } = this.scope;
    const body = validateTemplate(input.body, input.trigger);
    const number = await new PhoneNumbersRepository(deps.db, tenantId).findById(input.phoneNumberId);
    if (!number || number.removedAt) throw notFound('Phone number');
    const row = await this.texts.upsert(number.id, input.trigger, body, input.enabled);
    // This instance's fallback URL answers the new FAILURE text at once; others at their next refresh.
    deps.automations.textsChanged();
    deps.logger.info({ tenantId, userId: user.userId, phoneNumberId: number.id, trigger: input.trigger, enabled: input.enabled }, 'automated message set');
    return row;
  }

  listByNumbers(phoneNumberIds: readonly string[]): Promise<AutomatedMessageRow[]> {
    return this.texts.listByNumbers(phoneNumberIds);
  }

  ratingsOf(conversationIds: readonly string[]) {
    return new CsatRepository(this.scope.deps.db, this.scope.tenantId).ratingsOf(conversationIds);
  }

  userCsatAverage(userId: string, since: Date | null): Promise<number | null> {
    return new CsatRepository(this.scope.deps.db, this.scope.tenantId).averageForResolver(userId, since);
  }

  teamCsatAverage(teamId: string, since: Date | null): Promise<number | null> {
    return new CsatRepository(this.scope.deps.db, this.scope.tenantId).averageForTeam(teamId, since);
  }
}
