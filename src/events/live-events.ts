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

/** The conversation left every view (erased): dashboards drop it. */
export function conversationRemovedEvent(conversation: { id: string; tenantId: string }): LiveEvent {
  return { type: 'conversationRemoved', tenantId: conversation.tenantId, id: conversation.id, conversationId: conversation.id };
}
