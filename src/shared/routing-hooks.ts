/**
 * What other modules may ask of automatic assignment (built in src/modules/routing, reached through
 * AppDeps.routing so that no module needs to import routing). Every call is safe to make after a
 * commit and never throws: failures are logged, and the periodic sweep routes what was missed.
 */
export interface RoutingHooks {
  /**
   * A conversation was just opened (first inbound text, or a new text after RESOLVED) and is
   * waiting in its team's queue: runs the `beforeRouting` guards, then the team's strategy.
   * Fire and forget: the caller (the webhook) does not wait for it. The promise (never rejected)
   * settles once the guards ran and the pass and any `onQueued` listeners are done (automations
   * decides GREETING vs ALL_AGENTS_BUSY after it).
   */
  conversationOpened(opened: OpenedConversation): Promise<void>;
  /**
   * Assigns what waits in the tenant's queues (one team's, when given) to eligible agents, oldest
   * first: call it after anything that can make an agent eligible or free capacity.
   */
  routeWaiting(tenantId: string, teamId?: string | null): Promise<void>;
  /**
   * Runs before an opened conversation is routed. Returning a Date holds automatic assignment of
   * that conversation until then (stored in conversations.route_after, so the sweep honours it
   * after a restart): e.g. operating hours, "closed now → route when we open". A routing pass
   * assigns only conversations whose guards ran (route_after set): one left unchecked (the process
   * died between the inbound commit and its guards; a transfer queued it) gets the guards at the
   * next pass (sweep, start), before anything may assign it. Guards must therefore be idempotent.
   */
  beforeRouting(guard: RoutingGuard | BatchRoutingGuard): void;
  /**
   * Called when an opened conversation of a ROUND_ROBIN or LEAST_BUSY team found nobody eligible
   * (no member ONLINE with spare capacity) and stays in the queue: e.g. the ALL_AGENTS_BUSY message.
   * Not called for MANUAL teams nor for held conversations.
   */
  onQueued(listener: (queued: OpenedConversation) => void | Promise<void>): void;
}

export interface OpenedConversation {
  tenantId: string;
  conversationId: string;
  teamId: string;
  /**
   * Whether the conversation's number has an operating-hours schedule, when the caller read it
   * (ingest does, in its statement): a guard about hours skips its query for those known to have
   * none. Undefined: unknown, ask the database.
   */
  numberHasHours?: boolean;
}

/** A beforeRouting guard: hold this conversation's automatic assignment until a date, or not (null/undefined). */
export type RoutingGuard = (opened: OpenedConversation) => Promise<Date | null | undefined>;

/**
 * The same guard for many conversations at once, of any tenants (routing coalesces the openings of
 * a burst): one query for the lot instead of one per conversation. Answers in the order asked.
 */
export interface BatchRoutingGuard {
  many(opened: readonly OpenedConversation[]): Promise<Array<Date | null | undefined>>;
}
