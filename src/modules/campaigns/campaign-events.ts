import type { LiveEvent } from '../../events/event-bus.js';

/** Carried like the other live events; the campaign id also fills conversationId so the bus can filter on it. */
export function campaignUpdatedEvent(campaign: { id: string; tenantId: string }): LiveEvent {
  return { type: 'campaignUpdated', tenantId: campaign.tenantId, id: campaign.id, conversationId: campaign.id };
}
