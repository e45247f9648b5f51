import type { SQL } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { FallbackService } from '../modules/fallback/fallback.service.js';
import type { MediaLinkSigner } from '../modules/media/media-links.js';
import type { MediaFileLinkSigner } from '../modules/media-files/media-file-links.js';
import type { MediaStore } from '../modules/media-files/media-store.js';
import type { TwilioDeletionSignal } from '../modules/privacy/twilio-deletion-signal.js';
import type { WebhookEndpointCache } from '../modules/webhooks/webhook-endpoint-cache.js';
import type { WebhookAccountCache } from '../modules/twilio-accounts/account-cache.js';
import type { Role } from '../modules/users/role.js';
import type { TokenService } from '../modules/users/tokens.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Principal } from './principal.js';
import type { SecretBox } from './secret-box.js';
import type { LoginLimiter, SignUpLimiter } from './login-limiter.js';
import type { TwilioApiFactory } from './twilio-factory.js';
import type { SessionAuthenticator } from '../modules/users/session-authenticator.js';
import type { RoutingHooks } from './routing-hooks.js';
import type { MembershipCache } from '../modules/teams/memberships.js';
import type { PresenceTracker } from '../modules/routing/presence.js';
import type { GinPendingListMerger } from '../db/gin-pending-merge.js';
import type { IngestBatcher } from '../modules/inbound/ingest-batcher.js';
import type { ReplyBatcher } from '../modules/messages/reply-batcher.js';

/** Everything long-lived the services need, built once in src/app.ts. */
export interface AppDeps {
  config: Config;
  database: Database;
  db: Db;
  logger: Logger;
  secretBox: SecretBox;
  events: EventBus;
  tokens: TokenService;
  loginLimiter: LoginLimiter;
  signUpLimiter: SignUpLimiter;
  twilio: TwilioApiFactory;
  sessions: SessionAuthenticator;
  /** Accounts by webhook key for the inbound path; invalidated when an account is re-connected. */
  accountCache: WebhookAccountCache;
  /** Enqueue outbound jobs and wake this instance's dispatcher (implemented by src/modules/outbox). */
  outbox: OutboxPort;
  /** Signs and checks the short-lived media links. */
  mediaLinks: MediaLinkSigner;
  /** "Now" for business rules (operating hours, survey window); tests replace it. */
  clock: Clock;
  /** Automated texts (implemented by src/modules/automations), reached by the modules below it. */
  automations: AutomationsPort;
  /** Twilio's fallback URL: FAILURE texts from memory and the spool (src/modules/fallback). */
  fallback: FallbackService;
  /** Signs and checks links to stored files (uploads, copies of inbound media). */
  mediaFileLinks: MediaFileLinkSigner;
  /** Where file bytes live: Postgres (bytea) or the MEDIA_S3_* bucket. */
  mediaStore: MediaStore;
  /**
   * Wakes this instance's inbound-media copy worker (src/modules/media): the inbound path signals
   * committed copy jobs without importing the worker.
   */
  mediaCopy: WorkerWakePort;
  /** Wakes this instance's campaign runner when a campaign starts or resumes (src/modules/campaigns). */
  campaignRunner: WorkerWakePort;
  /** What happens to a user's conversations when they are deactivated (implemented by src/modules/conversations). */
  assignments: AssignmentsPort;
  /** Automatic assignment (src/modules/routing): what other modules call after opening or freeing conversations. */
  routing: RoutingHooks;
  /** Each tenant's team memberships, cached per instance (the visibility rule on live events). */
  memberships: MembershipCache;
  /** This instance's WebSockets per user, for presence (src/modules/routing/presence.ts). */
  presence: PresenceTracker;
  /** Which webhook event types each tenant's endpoints want (a filter before any payload is built). */
  webhookEndpointCache: WebhookEndpointCache;
  /** Wakes the maintenance worker when messages were queued for deletion at Twilio. */
  twilioDeletions: TwilioDeletionSignal;
  /** Group commit of inbound texts (src/modules/inbound/ingest-batcher.ts). */
  ingest: IngestBatcher;
  /** Group commit of agents' replies (src/modules/messages/reply-batcher.ts). */
  replies: ReplyBatcher;
  /** Merges the search indexes' pending lists in the background (src/db/gin-pending-merge.ts); started with the app when SEARCH_INDEX_MERGE_MS > 0. */
  searchIndexMerge: GinPendingListMerger;
}

/** An inbound text just committed, which GREETING, OUT_OF_HOURS or ALL_AGENTS_BUSY may answer. */
export interface InboundTextEvent {
  tenantId: string;
  messageId: string;
  conversationId: string;
  /** When the text came in, on the server clock: operating hours are judged at that moment. */
  receivedAt?: Date;
  /**
   * Set by routing: this text put the conversation in its team's queue with no member eligible.
   * Never set for a number without a team.
   */
  allAgentsBusy?: boolean;
  /**
   * The routing of the conversation this text opened (RoutingHooks.conversationOpened): GREETING
   * and ALL_AGENTS_BUSY are decided once it settled, so the busy outcome is known first.
   */
  routing?: Promise<void>;
}

export interface OpenedNumber {
  tenantId: string;
  phoneNumberId: string;
}

/** Told when numbers with a schedule open. */
export type NumbersOpenedListener = (opened: OpenedNumber[]) => void | Promise<void>;

/**
 * Automated texts seen from the modules that trigger them (inbound, conversations), which the
 * automations module depends on: they call through AppDeps instead of importing it.
 */
export interface AutomationsPort {
  /** After an inbound commit, off the webhook's answer path (never awaited, never throws). */
  afterInbound(event: InboundTextEvent): void;
  /**
   * Inside the transaction that moved a conversation to RESOLVED: queues the RESOLVED text and
   * the survey with it; the returned function runs after the commit.
   */
  onResolved(tx: Db, conversation: { id: string; tenantId: string; phoneNumberId: string; updatedAt: Date }, resolvedById: string | null): Promise<() => void>;
  /**
   * Subscribes to numbers whose operating hours just opened, as this instance's watcher sees them
   * on the server clock (routing: assign what waited); returns the unsubscribe.
   */
  onNumbersOpened(listener: NumbersOpenedListener): () => void;
  /** An automated message was set in this instance (the fallback reloads its FAILURE texts). */
  textsChanged(): void;
  onTextsChanged(listener: (() => void) | null): void;
}

/**
 * Conversations seen from the users module (which conversations depends on): a deactivated
 * user's open work is released in the deactivating transaction. The routing sweep re-assigns
 * what is released (assignee null) within its team.
 */
export interface AssignmentsPort {
  /** Unassigns the user's OPEN/PENDING conversations in `tx`; returns their ids (publish conversationUpdated after commit). */
  releaseAllOf(tx: Db, tenantId: string, userId: string): Promise<string[]>;
}

/** A polling worker of this instance, woken after a commit that gave it work (src/shared/worker-signal.ts). */
export interface WorkerWakePort {
  /** Starts the worker's next round now (nothing when no worker registered). */
  wake(): void;
  /** The worker of this instance registers (or with null, removes) its wake-up. */
  onWake(wake: (() => void) | null): void;
}

/**
 * The outbox seen from the modules that write messages: they enqueue in their own transaction and
 * signal after commit, without importing src/modules/outbox (which depends on them).
 */
export interface OutboxPort {
  enqueue(tx: Db, tenantId: string, messageId: string, phoneNumberId: string): Promise<void>;
  /**
   * The same jobs' INSERT as a fragment of a statement that writes their messages (a data-modifying
   * CTE), so the message and its job are written by one statement: `rows` selects
   * (tenant_id, message_id, phone_number_id).
   */
  enqueueSql(rows: SQL): SQL;
  /** Called after commit. */
  notifyEnqueued(): void;
  /** The dispatcher of this instance registers (or with null, removes) its wake-up. */
  onEnqueued(wake: (() => void) | null): void;
  /**
   * Called by this instance's dispatcher when a claim took the last due jobs (the queue it was
   * working through is empty): whoever keeps the queue topped up (the campaign runner) refills it
   * now rather than at its next poll.
   */
  notifyDrained(): void;
  /** A worker of this instance registers (or with null, removes) its wake-up on a drained queue. */
  onDrained(wake: (() => void) | null): void;
}

/**
 * Who is calling, as proven by a verified token whose session is live. The role is read from
 * the user's row (cached per instance, invalidated on change), never trusted from the token; a
 * socket's AuthUser is updated in place when it changes.
 */
export interface AuthUser {
  userId: string;
  tenantId: string;
  role: Role;
  /** The session the token names (sessions table). */
  sessionId: string;
}

/**
 * What a tenant-bound service is built from. The tenant id comes only from the verified token:
 * services and repositories never take a tenant id from client input.
 */
export interface TenantScope {
  readonly deps: AppDeps;
  readonly tenantId: string;
  /** The caller: a user or an API key (src/shared/principal.ts). */
  readonly user: Principal;
  /** The caller's address, for the audit trail. */
  readonly clientIp?: string;
}
