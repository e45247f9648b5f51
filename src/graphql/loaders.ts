import type DataLoader from 'dataloader';
import type { ContactRow } from '../modules/contacts/contacts.schema.js';
import type { MessagePageRow } from '../modules/messages/messages.repository.js';
import type { NotePageRow } from '../modules/notes/notes.repository.js';
import type { MessageRow } from '../modules/messages/messages.schema.js';
import type { PhoneNumberRow } from '../modules/phone-numbers/phone-numbers.schema.js';
import { TenantsRepository } from '../modules/tenants/tenants.repository.js';
import type { TenantRow } from '../modules/tenants/tenants.schema.js';
import type { TwilioAccountRow } from '../modules/twilio-accounts/twilio-accounts.schema.js';
import type { UserRow } from '../modules/users/users.schema.js';
import { Availability } from '../modules/routing/availability.js';
import type { TeamRow } from '../modules/teams/teams.schema.js';
import type { RequestContext, RowLoader } from './context.js';
import type { KeysetCursor } from './pagination.js';

/**
 * Per-operation DataLoaders behind the relation fields of the API: one query per relation per
 * level of a result, bound to the caller's tenant (ctx.tenant()), whatever the page size.
 * A new relation field adds its loader here.
 */
export function contactLoader(ctx: RequestContext): RowLoader<ContactRow> {
  return ctx.byId('contacts.byId', (ids) => ctx.tenant().contacts.findByIds(ids));
}

export function phoneNumberLoader(ctx: RequestContext): RowLoader<PhoneNumberRow> {
  return ctx.byId('phoneNumbers.byId', (ids) => ctx.tenant().phoneNumbers.findByIds(ids));
}

export function userLoader(ctx: RequestContext): RowLoader<UserRow> {
  return ctx.byId('users.byId', (ids) => ctx.tenant().users.findByIds(ids));
}

export function messageLoader(ctx: RequestContext): RowLoader<MessageRow> {
  return ctx.byId('messages.byId', (ids) => ctx.tenant().messages.findByIds(ids));
}

export function twilioAccountLoader(ctx: RequestContext): RowLoader<TwilioAccountRow> {
  return ctx.byId('twilioAccount', (ids) => ctx.tenant().twilioAccounts.findByIds(ids));
}

/**
 * A required relation's row, at once (loadNow) or once loaded. A missing one is a broken
 * invariant (an internal error), never a null the schema does not allow.
 */
export function required<V>(row: V | null | Promise<V | null>, missing: () => string): V | Promise<V> {
  return row instanceof Promise ? row.then((loaded) => present(loaded, missing)) : present(row, missing);
}

function present<V>(row: V | null, missing: () => string): V {
  if (!row) throw new Error(missing());
  return row;
}

/** Active numbers of many accounts, in one query. */
export function phoneNumbersByAccountLoader(ctx: RequestContext): DataLoader<string, PhoneNumberRow[]> {
  return ctx.loader<string, PhoneNumberRow[]>('phoneNumbersByAccount', async (accountIds) => {
    const rows = await ctx.tenant().phoneNumbers.listActiveByAccounts(accountIds);
    return accountIds.map((id) => rows.filter((r) => r.twilioAccountId === id));
  });
}

/**
 * Tenant rows by id. Not tenant-bound (the tenants table is the root of isolation) and needs no
 * caller: signUp's answer resolves its new user's tenant before any token exists.
 */
export function tenantLoader(ctx: RequestContext): RowLoader<TenantRow> {
  return ctx.byId('tenant', (ids) => new TenantsRepository(ctx.deps.db).findByIds(ids));
}

/** Message pages of many conversations with the same (first, before), in one query. */
export function messagePageLoader(ctx: RequestContext, limit: number, before: KeysetCursor | null): DataLoader<string, MessagePageRow[]> {
  const name = `messages.page:${limit}:${before ? `${before.ts}|${before.id}` : ''}`;
  return ctx.loader<string, MessagePageRow[]>(name, async (conversationIds) => {
    const rows = await ctx.tenant().messages.pages(conversationIds, limit, before);
    const byConversation = new Map<string, MessagePageRow[]>();
    for (const r of rows) {
      let list = byConversation.get(r.row.conversationId);
      if (!list) byConversation.set(r.row.conversationId, (list = []));
      list.push(r);
    }
    return conversationIds.map((id) => byConversation.get(id) ?? []);
  });
}

export function teamLoader(ctx: RequestContext): RowLoader<TeamRow> {
  return ctx.byId('teams.byId', (ids) => ctx.tenant().teams.findByIds(ids));
}

/** Members of many teams, in one query (Team.members). */
export function teamMembersLoader(ctx: RequestContext): DataLoader<string, UserRow[]> {
  return ctx.loader<string, UserRow[]>('teams.members', async (teamIds) => {
    const rows = await ctx.tenant().teams.membersOf(teamIds);
    return teamIds.map((id) => rows.filter((r) => r.teamId === id).map((r) => r.user));
  });
}

/** Teams of many users, in one query (User.teams). */
export function userTeamsLoader(ctx: RequestContext): DataLoader<string, TeamRow[]> {
  return ctx.loader<string, TeamRow[]>('users.teams', async (userIds) => {
    const rows = await ctx.tenant().teams.teamsOf(userIds);
    return userIds.map((id) => rows.filter((r) => r.userId === id).map((r) => r.team));
  });
}

/** Availability of many users, in one query; no presence row means OFFLINE (User.availability). */
export function availabilityLoader(ctx: RequestContext): DataLoader<string, Availability> {
  return ctx.loader<string, Availability>('users.availability', async (userIds) => {
    const rows = await ctx.tenant().presence.findByUserIds(userIds);
    const byUser = new Map(rows.map((r) => [r.userId, r.availability as Availability]));
    return userIds.map((id) => byUser.get(id) ?? Availability.OFFLINE);
  });
}

/** Labels of every conversation of a result, in one query. */
export function labelsLoader(ctx: RequestContext): DataLoader<string, string[]> {
  return ctx.loader<string, string[]>('conversationLabels.byConversation', async (conversationIds) => {
    const byConversation = await ctx.tenant().conversationLabels.byConversation(conversationIds);
    return conversationIds.map((id) => byConversation.get(id) ?? []);
  });
}

/** Note pages (oldest first) of many conversations with the same (first, after), in one query. */
export function notePageLoader(ctx: RequestContext, limit: number, after: KeysetCursor | null): DataLoader<string, NotePageRow[]> {
  const name = `notes.page:${limit}:${after ? `${after.ts}|${after.id}` : ''}`;
  return ctx.loader<string, NotePageRow[]>(name, async (conversationIds) => {
    const rows = await ctx.tenant().notes.pages(conversationIds, limit, after);
    const byConversation = new Map<string, NotePageRow[]>();
    for (const r of rows) {
      let list = byConversation.get(r.row.conversationId);
      if (!list) byConversation.set(r.row.conversationId, (list = []));
      list.push(r);
    }
    return conversationIds.map((id) => byConversation.get(id) ?? []);
  });
}
