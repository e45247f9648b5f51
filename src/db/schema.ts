// Every drizzle table, for the typed query API (db.query.*) and for tests.
export * from '../modules/tenants/tenants.schema.js';
export * from '../modules/users/users.schema.js';
export * from '../modules/twilio-accounts/twilio-accounts.schema.js';
export * from '../modules/phone-numbers/phone-numbers.schema.js';
export * from '../modules/contacts/contacts.schema.js';
export * from '../modules/conversations/conversations.schema.js';
export * from '../modules/messages/messages.schema.js';
export * from '../modules/outbox/outbox.schema.js';
export * from '../modules/users/sessions.schema.js';
export * from '../modules/unrouted/unrouted.schema.js';
export * from '../modules/teams/teams.schema.js';
export * from '../modules/routing/routing.schema.js';
export * from '../modules/notes/notes.schema.js';
export * from '../modules/quick-replies/quick-replies.schema.js';
