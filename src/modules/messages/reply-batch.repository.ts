import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { allColumns, builtOnce, columnList, setClauses, tableRow } from '../../db/sql.js';
import { contacts } from '../contacts/contacts.schema.js';
import { recordContactActivity } from '../contacts/contacts.sql.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordMessageSet } from '../conversations/conversations.sql.js';
import { agentVisibility, type Viewer } from '../conversations/visibility.js';
import { isUuid } from '../../shared/ids.js';
import { Role } from '../users/role.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';
import { messages, type MessageRow, type StoredMedia } from './messages.schema.js';

/** An agent's reply: the rest comes from the conversation. */
export interface ReplyValues {
  conversationId: string;
  body: string;
  media: StoredMedia[];
  authorId: string | null;
  segments: number;
  idempotencyKey: string | null;
}

/** What sendReplies did for one reply: the message written, or why nothing was. */
export type ReplyOutcome =
  | { kind: 'sent'; message: MessageRow }
  /** No such conversation, or the viewer may not see it. */
  | { kind: 'not-found' }
  | { kind: 'opted-out' }
  | { kind: 'blocked' }
  /** The conversation's number was removed. */
  | { kind: 'number-removed' };

/** One sendMessage of a batch: its tenant and viewer come from the caller's session. */
export interface ReplyItem {
  tenantId: string;
  /** The message's id, chosen by the caller (the batch's answer is matched on it). */
  messageId: string;
  values: ReplyValues;
  viewer: Viewer;
}

/**
 * sendMessage's statement (group commit: one reply, or many of any tenants and viewers), written
 * as ONE statement, i.e. one round trip and one commit, with no transaction around several:
 * each item's conversation read under its own viewer's visibility rule with its
 * contact and number, and only when the contact may be texted from a number still ours: the
 * message QUEUED, its outbox job, the conversation's activity and first response, the contact's
 * activity. Answers one outcome per item, in order.
 *
 * The rows come as one JSON parameter (one statement text whatever the batch size, prepared
 * once). Tenant isolation: every join and write uses the item's own tenant_id (composite foreign
 * keys check it again). The caller guarantees at most one item per conversation (a statement
 * updates each conversation row once, and two replies written by one statement would share
 * created_at). An idempotency key already used raises the unique violation
 * messages_tenant_idempotency_uq and undoes the whole statement: ReplyBatcher writes a reply with
 * a key alone.
 */
export async function sendReplies(db: Db, items: readonly ReplyItem[], enqueueSql: (rows: SQL) => SQL): Promise<ReplyOutcome[]> {
  // A conversation id that is no uuid names no conversation (and would fail the statement's cast).
  const valid = items.flatMap((it, i) => (isUuid(it.values.conversationId) ? [{ it, i }] : []));
  if (valid.length === 0) return items.map(() => ({ kind: 'not-found' }));
  const rows = valid.map(({ it, i }) => ({
    i,
    t: it.tenantId,
    c: it.values.conversationId,
    r: it.viewer.role !== Role.ADMIN,
    u: it.viewer.userId ?? null,
    mid: it.messageId,
    b: it.values.body,
    m: it.values.media,
    au: it.values.authorId,
    s: it.values.segments,
    k: it.values.idempotencyKey,
  }));
  statement ??= repliesStatement(enqueueSql);
  const result = await db.execute(statement({ rows: JSON.stringify(rows) }));
  const answers = new Map(rowsOf<Record<string, unknown>>(result).map((r) => [Number(r['input.i']), r]));
  return items.map((_, i): ReplyOutcome => {
    const row = answers.get(i);
    if (!row) return { kind: 'not-found' };
    if (row['id'] !== null && row['id'] !== undefined) return { kind: 'sent', message: tableRow(messages, row) };
    if (row['target.opted_out']) return { kind: 'opted-out' };
    if (row['target.blocked']) return { kind: 'blocked' };
    return { kind: 'number-removed' };
  });
}

/** Built once (the outbox's INSERT is the same for every caller). */
let statement: ((values: Record<'rows', unknown>) => SQL) | null = null;

function repliesStatement(enqueueSql: (rows: SQL) => SQL) {
  return builtOnce<'rows'>(() => {
    const C = conversations;
    return sql`
      with input as (
        select * from json_to_recordset(${sql.placeholder('rows')}::json) as input(i int, t uuid, c uuid, r boolean, u uuid, mid uuid, b text, m jsonb, au uuid, s int, k text)
      ),
      -- Lateral look-ups ("limit 1" keeps the planner from flattening them into joins), so each row is
      -- always found by its keys through the indexes: as joins,
      -- the planner hashed a sequential scan of phone_numbers while its statistics said it was
      -- tiny (a new database), which turns into a read of the whole table per batch as it grows.
      -- Each probe is by the primary key alone and the tenant is compared on the row found (the
      -- limit keeps that comparison out of the probe): given the tenant too, a plan made before
      -- the tables' first analysis could walk all of a tenant's rows by an index on tenant_id.
      target as (
        select input.*, conv.phone_number_id, number.twilio_account_id, contact.opted_out, contact.blocked, number.removed_at is not null as number_removed
        from input
        cross join lateral (
          select ${C.tenantId} as tenant_id, ${C.phoneNumberId} as phone_number_id, ${C.contactId} as contact_id from ${C}
          where ${C.id} = input.c and (not input.r or ${agentVisibility(sql`input.t`, sql`input.u`)})
          limit 1
        ) conv
        cross join lateral (
          select ${contacts.tenantId} as tenant_id, ${contacts.optedOut} as opted_out, ${contacts.blocked} as blocked from ${contacts}
          where ${contacts.id} = conv.contact_id
          limit 1
        ) contact
        cross join lateral (
          select ${phoneNumbers.tenantId} as tenant_id, ${phoneNumbers.twilioAccountId} as twilio_account_id, ${phoneNumbers.removedAt} as removed_at from ${phoneNumbers}
          where ${phoneNumbers.id} = conv.phone_number_id
          limit 1
        ) number
        where conv.tenant_id = input.t and contact.tenant_id = input.t and number.tenant_id = input.t
      ),
      message as (
        insert into ${messages} (${columnList(
          messages.id,
          messages.tenantId,
          messages.conversationId,
          messages.twilioAccountId,
          messages.direction,
          messages.body,
          messages.media,
          messages.status,
          messages.source,
          messages.authorId,
          messages.segments,
          messages.idempotencyKey,
        )})
        select target.mid, target.t, target.c, target.twilio_account_id, ${MessageDirection.OUTBOUND}::message_direction, target.b,
          target.m, ${MessageStatus.QUEUED}::message_status, ${MessageSource.AGENT}::message_source, target.au, target.s, target.k
        from target where not target.opted_out and not target.blocked and not target.number_removed
        order by target.i
        returning ${allColumns(messages)}
      ),
      job as (${enqueueSql(sql`select message.tenant_id, message.id, target.phone_number_id from message join target on target.mid = message.id order by target.i`)}),
      recorded as (
        update ${C} set ${setClauses(C, recordMessageSet(sql`message.id`, { authorId: sql`message.author_id` }))}
        from message
        -- The "= any(array(...))" lets the planner go by the primary key: with the input's estimate
        -- (a function: 100 rows) it hashed a sequential scan of every conversation (and contact).
        where ${C.tenantId} = message.tenant_id and ${C.id} = message.conversation_id
          and ${C.id} = any(array(select conversation_id from message))
        returning ${C.tenantId}, ${C.contactId}
      ),
      contact as (
        update ${contacts} set ${setClauses(contacts, recordContactActivity(sql`now()`))}
        from (select distinct tenant_id, contact_id from recorded) r
        where ${contacts.tenantId} = r.tenant_id and ${contacts.id} = r.contact_id
          and ${contacts.id} = any(array(select contact_id from recorded))
      )
      select target.i as "input.i", target.opted_out as "target.opted_out", target.blocked as "target.blocked",
        target.number_removed as "target.number_removed", message.*
      from target left join message on message.id = target.mid
    `;
  });
}
