// Every drizzle table, for the typed query API (db.query.*) and for tests.
export * from '../modules/tenants/tenants.schema.js';
export * from '../modules/users/users.schema.js';
export * from '../modules/twilio-accounts/twilio-accounts.schema.js';
export * from '../modules/phone-numbers/phone-numbers.schema.js';
export * from '../modules/contacts/contacts.schema.js';
export * from '../modules/conversations/conversations.schema.js';
export * from '../modules/messages/messages.schema.js';
export * from '../modules/outbox/outbox.schema.js';
export * from '../modules/api-keys/api-keys.schema.js';
export * from '../modules/audit/audit.schema.js';
export * from '../modules/webhooks/webhooks.schema.js';
export * from '../modules/privacy/privacy.schema.js';
