import { ContactsRepository } from './modules/contacts/contacts.repository.js';
import { ContactsService } from './modules/contacts/contacts.service.js';
import { ContactUpdatesService } from './modules/conversations/contact-updates.service.js';
import { ConversationLabelsRepository } from './modules/conversations/conversation-labels.repository.js';
import { ConversationLabelsService } from './modules/conversations/conversation-labels.service.js';
import { NotesRepository } from './modules/notes/notes.repository.js';
import { NotesService } from './modules/notes/notes.service.js';
import { QuickRepliesRepository } from './modules/quick-replies/quick-replies.repository.js';
import { QuickRepliesService } from './modules/quick-replies/quick-replies.service.js';
import { ConversationsRepository } from './modules/conversations/conversations.repository.js';
import { ConversationsService } from './modules/conversations/conversations.service.js';
import { MediaRepository } from './modules/media/media.repository.js';
import { MessagesRepository } from './modules/messages/messages.repository.js';
import { MessagesService } from './modules/messages/messages.service.js';
import { PhoneNumbersRepository } from './modules/phone-numbers/phone-numbers.repository.js';
import { PhoneNumbersService } from './modules/phone-numbers/phone-numbers.service.js';
import { TwilioAccountsRepository } from './modules/twilio-accounts/twilio-accounts.repository.js';
import { TwilioAccountsService } from './modules/twilio-accounts/twilio-accounts.service.js';
import { UsersRepository } from './modules/users/users.repository.js';
import { UsersService } from './modules/users/users.service.js';
import { UnroutedMessagesRepository } from './modules/unrouted/unrouted.repository.js';
import { UnroutedMessagesService } from './modules/unrouted/unrouted.service.js';
import { SessionsRepository } from './modules/users/sessions.repository.js';
import { TeamsRepository } from './modules/teams/teams.repository.js';
import { TeamsService } from './modules/teams/teams.service.js';
import { PresenceRepository } from './modules/routing/presence.repository.js';
import { RoutingService } from './modules/routing/routing.service.js';
import type { AppDeps, AuthUser, TenantScope } from './shared/deps.js';
import { unauthenticated } from './shared/errors.js';

/**
 * The per-request object graph of one tenant: the repositories bound to it and the services
 * acting for its caller, each built on first use and shared for the rest of the operation.
 * Resolvers, loaders, REST routes and the live resolver take what they need from here instead of
 * calling `new XRepository(...)`. It is the only place (with src/app.ts) that knows every module:
 * a new tenant-bound repository or service gets one getter here (docs/architecture.md).
 *
 * The tenant id comes from a verified token (or a signed link, or a matched live event), never
 * from client input. Repositories used inside a transaction are still built on the transaction
 * (`new XRepository(tx, tenantId)`) by the service that opens it.
 */
export class TenantContext {
  private readonly built = new Map<string, unknown>();

  constructor(
    readonly deps: AppDeps,
    readonly tenantId: string,
    /** The caller; null for a signed media link, where the link itself is the authorisation. */
    private readonly caller: AuthUser | null,
  ) {}

  /** What a service acting for the caller is built from. */
  get scope(): TenantScope {
    if (!this.caller) throw unauthenticated();
    return this.once('scope', () => ({ deps: this.deps, tenantId: this.tenantId, user: this.caller! }));
  }

  // Repositories, bound to this tenant.
  get contacts(): ContactsRepository {
    return this.once('contacts', () => new ContactsRepository(this.deps.db, this.tenantId));
  }
  get conversations(): ConversationsRepository {
    return this.once('conversations', () => new ConversationsRepository(this.deps.db, this.tenantId));
  }
  get media(): MediaRepository {
    return this.once('media', () => new MediaRepository(this.deps.db, this.tenantId));
  }
  get messages(): MessagesRepository {
    return this.once('messages', () => new MessagesRepository(this.deps.db, this.tenantId));
  }
  get phoneNumbers(): PhoneNumbersRepository {
    return this.once('phoneNumbers', () => new PhoneNumbersRepository(this.deps.db, this.tenantId));
  }
  get twilioAccounts(): TwilioAccountsRepository {
    return this.once('twilioAccounts', () => new TwilioAccountsRepository(this.deps.db, this.tenantId));
  }
  get unroutedMessages(): UnroutedMessagesRepository {
    return this.once('unroutedMessages', () => new UnroutedMessagesRepository(this.deps.db, this.tenantId));
  }
  get sessions(): SessionsRepository {
    return this.once('sessions', () => new SessionsRepository(this.deps.db, this.tenantId));
  }
  get users(): UsersRepository {
    return this.once('users', () => new UsersRepository(this.deps.db, this.tenantId));
  }
  get teams(): TeamsRepository {
    return this.once('teams', () => new TeamsRepository(this.deps.db, this.tenantId));
  }
  get presence(): PresenceRepository {
    return this.once('presence', () => new PresenceRepository(this.deps.db, this.tenantId));
  }

  // Inbox tools (issue 11).
  get conversationLabels(): ConversationLabelsRepository {
    return this.once('conversationLabels', () => new ConversationLabelsRepository(this.deps.db, this.tenantId));
  }
  get notes(): NotesRepository {
    return this.once('notes', () => new NotesRepository(this.deps.db, this.tenantId));
  }
  get quickReplies(): QuickRepliesRepository {
    return this.once('quickReplies', () => new QuickRepliesRepository(this.deps.db, this.tenantId));
  }
  get contactsService(): ContactsService {
    return this.once('contactsService', () => new ContactsService(this.scope));
  }
  get contactUpdatesService(): ContactUpdatesService {
    return this.once('contactUpdatesService', () => new ContactUpdatesService(this.scope));
  }
  get conversationLabelsService(): ConversationLabelsService {
    return this.once('conversationLabelsService', () => new ConversationLabelsService(this.scope));
  }
  get notesService(): NotesService {
    return this.once('notesService', () => new NotesService(this.scope));
  }
  get quickRepliesService(): QuickRepliesService {
    return this.once('quickRepliesService', () => new QuickRepliesService(this.scope));
  }

  // Services, acting for the caller.
  get conversationsService(): ConversationsService {
    return this.once('conversationsService', () => new ConversationsService(this.scope));
  }
  get messagesService(): MessagesService {
    return this.once('messagesService', () => new MessagesService(this.scope));
  }
  get phoneNumbersService(): PhoneNumbersService {
    return this.once('phoneNumbersService', () => new PhoneNumbersService(this.scope));
  }
  get twilioAccountsService(): TwilioAccountsService {
    return this.once('twilioAccountsService', () => new TwilioAccountsService(this.scope));
  }
  get unroutedMessagesService(): UnroutedMessagesService {
    return this.once('unroutedMessagesService', () => new UnroutedMessagesService(this.scope));
  }
  get usersService(): UsersService {
    return this.once('usersService', () => new UsersService(this.scope));
  }
  get teamsService(): TeamsService {
    return this.once('teamsService', () => new TeamsService(this.scope));
  }
  get routingService(): RoutingService {
    return this.once('routingService', () => new RoutingService(this.scope));
  }

  private once<T>(name: string, build: () => T): T {
    let value = this.built.get(name) as T | undefined;
    if (value === undefined) this.built.set(name, (value = build()));
    return value;
  }
}
