import type { NonEmptyArray } from 'type-graphql';
import { UserResolver } from '../modules/users/users.resolver.js';
import { ConversationResolver } from '../modules/conversations/conversations.resolver.js';
import { InboxResolver } from '../modules/inbox/inbox.resolver.js';
import { MessageResolver } from '../modules/messages/messages.resolver.js';
import { LiveResolver } from '../modules/live/live.resolver.js';
import { TwilioAccountResolver } from '../modules/twilio-accounts/twilio-accounts.resolver.js';
import { PhoneNumberResolver, TwilioAccountNumbersResolver } from '../modules/phone-numbers/phone-numbers.resolver.js';
import { MessageMediaResolver } from '../modules/media/message-media.resolver.js';
import { ConversationMessagesResolver } from '../modules/messages/conversation-messages.resolver.js';
import { ThreadResolver } from '../modules/messages/thread.resolver.js';
import { OperatingHoursResolver } from '../modules/operating-hours/operating-hours.resolver.js';
import { AutomatedMessageResolver, ConversationCsatResolver, PhoneNumberAutomationsResolver, TeamCsatResolver, UserCsatResolver } from '../modules/automations/automations.resolver.js';
import { CampaignResolver, MessageCampaignResolver } from '../modules/campaigns/campaigns.resolver.js';
import { ApiKeyResolver } from '../modules/api-keys/api-keys.resolver.js';
import { AuditResolver } from '../modules/audit-log/audit-log.resolver.js';
import { WebhookEndpointResolver } from '../modules/webhooks/webhooks.resolver.js';
import { TenantSettingsResolver } from '../modules/privacy/tenant-settings.resolver.js';
import { PrivacyResolver } from '../modules/privacy/privacy.resolver.js';
import { ReportResolver } from '../modules/reports/reports.resolver.js';
import { UnroutedMessageResolver } from '../modules/unrouted/unrouted.resolver.js';
import { ContactAddressResolver } from '../modules/contacts/contact-address.resolver.js';

import { TeamResolver } from '../modules/teams/teams.resolver.js';
import { ConversationTeamResolver, PhoneNumberTeamResolver, RoutingResolver, UserRoutingResolver } from '../modules/routing/routing.resolver.js';
import { ContactResolver } from '../modules/contacts/contacts.resolver.js';
import { ContactConversationsResolver } from '../modules/conversations/contact-conversations.resolver.js';
import { ConversationNotesResolver, NoteResolver } from '../modules/notes/notes.resolver.js';
import { QuickReplyResolver } from '../modules/quick-replies/quick-replies.resolver.js';

/** Every resolver class of the API; the schema is built from this list (one per line: branches add lines). */
export const resolvers: NonEmptyArray<Function> = [
  UserResolver,
  ConversationResolver,
  InboxResolver,
  MessageResolver,
  LiveResolver,
  TwilioAccountResolver,
  PhoneNumberResolver,
  MessageMediaResolver,
  ConversationMessagesResolver,
  ThreadResolver,
  TwilioAccountNumbersResolver,
  UnroutedMessageResolver,
  TeamResolver,
  RoutingResolver,
  UserRoutingResolver,
  PhoneNumberTeamResolver,
  ConversationTeamResolver,
  ContactResolver,
  ContactConversationsResolver,
  NoteResolver,
  ConversationNotesResolver,
  QuickReplyResolver,
  ContactAddressResolver,
  OperatingHoursResolver,
  AutomatedMessageResolver,
  PhoneNumberAutomationsResolver,
  ConversationCsatResolver,
  UserCsatResolver,
  TeamCsatResolver,
  CampaignResolver,
  MessageCampaignResolver,
  ApiKeyResolver,
  AuditResolver,
  WebhookEndpointResolver,
  TenantSettingsResolver,
  PrivacyResolver,
  ReportResolver,
];
