/**
 * The subscription fields whose feed honours `RequestContext.liveAudience` (live.resolver's row
 * feeds: they report each row's holder instead of filtering by their own context's user): the
 * only ones a group of several viewers may run (`liveClass`). conversationRemoved, campaignUpdated
 * and any feed added later filter by their own user, so they stay one group per viewer. Each of
 * these is `@Authorized()` without roles (declareRowFeed): a member joining a group another agent
 * started skips no check that could have refused it. A list of names, free of the resolver's
 * decorated types, so that the live fan-out can read it on its own; live.resolver's ROW_FEEDS is
 * keyed by `AudienceFeed`, so the compiler keeps the two the same.
 */
const NAMES = ['messageAdded', 'messageUpdated', 'conversationUpdated', 'userUpdated', 'contactUpdated'] as const;

export type AudienceFeed = (typeof NAMES)[number];

export const AUDIENCE_FEEDS: ReadonlySet<string> = new Set<string>(NAMES);
