// The builder lives with the other live events: status callbacks (inbound) publish it too.
export { campaignUpdatedEvent, CAMPAIGN_PROGRESS_EVERY_MS } from '../../events/live-events.js';
