import type { NonEmptyArray } from 'type-graphql';
import { UserResolver } from '../modules/users/users.resolver.js';
import { ConversationResolver } from '../modules/conversations/conversations.resolver.js';
import { MessageResolver } from '../modules/messages/messages.resolver.js';
import { LiveResolver } from '../modules/live/live.resolver.js';
import { TwilioAccountResolver } from '../modules/twilio-accounts/twilio-accounts.resolver.js';
import { PhoneNumberResolver, TwilioAccountNumbersResolver } from '../modules/phone-numbers/phone-numbers.resolver.js';
import { MessageMediaResolver } from '../modules/media/message-media.resolver.js';
import { ConversationMessagesResolver } from '../modules/messages/conversation-messages.resolver.js';

/** Every resolver class of the API; the schema is built from this list. */
export const resolvers: NonEmptyArray<Function> = [UserResolver, ConversationResolver, MessageResolver, LiveResolver, TwilioAccountResolver, PhoneNumberResolver, MessageMediaResolver, ConversationMessagesResolver, TwilioAccountNumbersResolver];
