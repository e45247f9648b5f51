import type { LiveEvent } from './event-bus.js';

/**
 * Builders of the live events services publish after commit. Events carry ids only (they may
 * cross Postgres NOTIFY); each instance loads the row once for all its subscribers.
 */
export function messageAddedEvent(message: { id: string; tenantId: string; conversationId: string }): LiveEvent {
  return { type: 'messageAdded', tenantId: message.tenantId, id: message.id, conversationId: message.conversationId };
}

export function messageUpdatedEvent(message: { id: string; tenantId: string; conversationId: string }): LiveEvent {
  return { type: 'messageUpdated', tenantId: message.tenantId, id: message.id, conversationId: message.conversationId };
}

export function conversationUpdatedEvent(conversation: { id: string; tenantId: string }): LiveEvent {
  return { type: 'conversationUpdated', tenantId: conversation.tenantId, id: conversation.id, conversationId: conversation.id };
}
