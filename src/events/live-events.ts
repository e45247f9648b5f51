import type { ConversationChange, LiveEvent, MessageChange } from './event-bus.js';

/**
 * Builders of the live events services publish after commit. Events carry ids only (they may
 * cross Postgres NOTIFY); each instance loads the row once for all its subscribers.
 */
/** `change: 'optedOut'`: this inbound text opted its contact out (publish listeners only). */
export function messageAddedEvent(message: { id: string; tenantId: string; conversationId: string }, change?: MessageChange): LiveEvent {
  const event: LiveEvent = { type: 'messageAdded', tenantId: message.tenantId, id: message.id, conversationId: message.conversationId };
  if (change) event.change = change;
  return event;
}

/** Carried like the other live events; the campaign id also fills conversationId so the bus can filter on it. */
export function campaignUpdatedEvent(campaign: { id: string; tenantId: string }): LiveEvent {
  return { type: 'campaignUpdated', tenantId: campaign.tenantId, id: campaign.id, conversationId: campaign.id };
}

/** Campaign progress events per campaign at most this often from one instance ("a few times a second"). */
export const CAMPAIGN_PROGRESS_EVERY_MS = 400;

export function messageUpdatedEvent(message: { id: string; tenantId: string; conversationId: string }): LiveEvent {
  return { type: 'messageUpdated', tenantId: message.tenantId, id: message.id, conversationId: message.conversationId };
}

/** `change` tells publish listeners (outgoing webhooks) what happened; subscribers get the row. */
export function conversationUpdatedEvent(conversation: { id: string; tenantId: string }, change?: ConversationChange): LiveEvent {
  const event: LiveEvent = { type: 'conversationUpdated', tenantId: conversation.tenantId, id: conversation.id, conversationId: conversation.id };
  if (change) event.change = change;
  return event;
}

/** Every instance closes the sockets opened with this key. */
export function apiKeyRevokedEvent(key: { id: string; tenantId: string }): LiveEvent {
  return { type: 'apiKeyRevoked', tenantId: key.tenantId, id: key.id, conversationId: '' };
}

/** Every instance drops its cached copy of this Twilio account (webhooks read it afresh). */
export function twilioAccountChangedEvent(account: { id: string; tenantId: string }): LiveEvent {
  return { type: 'twilioAccountChanged', tenantId: account.tenantId, id: account.id, conversationId: '' };
}

/** Who could see a conversation before an assignment or team change (see LiveEvent.extra). */
export interface PreviousHolder {
  teamId: string | null;
  assigneeId: string | null;
}

/** conversationUpdated after an assignment or team change: subscribers who lost sight of it get conversationRemoved. */
export function conversationReassignedEvent(conversation: { id: string; tenantId: string }, previous: PreviousHolder): LiveEvent {
  return { ...conversationUpdatedEvent(conversation), extra: `${previous.teamId ?? ''}|${previous.assigneeId ?? ''}` };
}

export function previousHolderOf(event: LiveEvent): PreviousHolder | null {
  if (event.extra === undefined) return null;
  const [teamId, assigneeId] = event.extra.split('|');
  return { teamId: teamId || null, assigneeId: assigneeId || null };
}

/**
 * A conversation left agents' view: every agent's (e.g. its contact was blocked), or only the
 * named user's (extra = their id; ADMINs never lose sight).
 */
export function conversationRemovedEvent(conversation: { id: string; tenantId: string }, forUserId?: string): LiveEvent {
  const event: LiveEvent = { type: 'conversationRemoved', tenantId: conversation.tenantId, id: conversation.id, conversationId: conversation.id };
  if (forUserId) event.extra = forUserId;
  return event;
}

/** A user's availability, role or active flag changed (userUpdated). */
export function userUpdatedEvent(user: { id: string; tenantId: string }): LiveEvent {
  return { type: 'userUpdated', tenantId: user.tenantId, id: user.id, conversationId: '' };
}

/** A tenant's teams or memberships changed (cached memberships are dropped on every instance). */
export function teamsChangedEvent(tenantId: string, teamId: string): LiveEvent {
  return { type: 'teamsChanged', tenantId, id: teamId, conversationId: '' };
}

/** Name, block and opt-out changes of a contact (dashboards disable the composer of its conversations). */
export function contactUpdatedEvent(contact: { id: string; tenantId: string }): LiveEvent {
  return { type: 'contactUpdated', tenantId: contact.tenantId, id: contact.id, conversationId: '' };
}
