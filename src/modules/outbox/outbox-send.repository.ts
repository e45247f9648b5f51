import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { aliasedColumns, arrayLiteral, builtOnce, setClauses, tableRow } from '../../db/sql.js';
import { contacts, type ContactRow } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { MessageStatus } from '../messages/message.enums.js';
import { statusesBefore } from '../messages/message-status.js';
import { messages, type MessageRow } from '../messages/messages.schema.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { twilioAccounts, type TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import { outbox } from './outbox.schema.js';
import { insertWebhookEvents } from '../webhook-events/webhook-events.sql.js';

/** Everything the dispatcher needs to send one message. */
export interface SendContext {
  message: MessageRow;
  contact: ContactRow;
  phoneNumber: PhoneNumberRow;
  account: TwilioAccountRow;
}

/** A claimed job as these statements name it: the row, its tenant and its message. */
export interface JobRef {
  id: number;
  tenantId: string;
  messageId: string;
}

export interface LeaseHold extends JobRef {
  /** How long from now the lease must last: the wait for the pacing slot plus the call. */
  holdMs: number;
}

export interface SentResult extends JobRef {
  twilioSid: string;
}

/** The jobs as the placeholders jobsTable reads: three array literals. */
type JobParam = 'ids' | 'tenants' | 'messageIds';
/** A step's statement adds its own column (`extra`) and the lease's fence (`workerId`). */
type StepParam = JobParam | 'extra' | 'workerId';

/**
 * The batch as a derived table `v(job_id, tenant_id, message_id[, extra])`, one row per job, from
 * placeholders (the statements below are built once: builtOnce); jobValues gives their values.
 * Each array is read through a sub-select, `(select $n::uuid[])`: see pairArrays in
 * src/modules/live/live.repository.ts for why.
 */
function jobsTable(extra?: { name: string; type: 'int' | 'text' }) {
  const p = sql.placeholder;
  if (!extra) return sql`unnest((select ${p('ids')}::bigint[]), (select ${p('tenants')}::uuid[]), (select ${p('messageIds')}::uuid[])) as v(job_id, tenant_id, message_id)`;
  return sql`unnest((select ${p('ids')}::bigint[]), (select ${p('tenants')}::uuid[]), (select ${p('messageIds')}::uuid[]), (select ${p('extra')}::${sql.raw(extra.type)}[])) as v(job_id, tenant_id, message_id, ${sql.raw(extra.name)})`;
}

function jobValues(jobs: readonly JobRef[]): Record<JobParam, string> {
  return {
    ids: arrayLiteral(jobs.map((j) => j.id)),
    tenants: arrayLiteral(jobs.map((j) => j.tenantId)),
    messageIds: arrayLiteral(jobs.map((j) => j.messageId)),
  };
}

/**
 * The batch statements, each built by drizzle once (builtOnce) rather than at every batch: drizzle
 * was 13.5% of the server's CPU in the outbound profile, most of it rebuilding these (issue 16).
 */
// Each row is probed by its primary key alone in a lateral "limit 1" look-up and its tenant then
// compared with the job's (the ingest and reply statements do the same). As joins on (tenant_id,
// id), the planner walked every message, contact and number of the job's tenant by an index on
// tenant_id whenever its statistics were young (seen in the bench: 1,046 buffers read to load 12
// messages, growing with the tenant; test/queries/hot-plans.test.ts).
const loadStatement = builtOnce<JobParam>(() => {
  // A column of a look-up below: its alias and aliasedColumns' prefix are the same letter.
  const col = (alias: 'm' | 'c' | 'n' | 'a', column: { name: string }) => sql`${sql.raw(alias)}.${sql.identifier(`${alias}.${column.name}`)}`;
  return sql`select m.*, c.*, n.*, a.*
    from ${jobsTable()}
    cross join lateral (select ${aliasedColumns(messages, 'm.')} from ${messages} where ${messages.id} = v.message_id limit 1) m
    cross join lateral (
      select ${conversations.tenantId} as tenant_id, ${conversations.contactId} as contact_id, ${conversations.phoneNumberId} as phone_number_id
      from ${conversations} where ${conversations.id} = ${col('m', messages.conversationId)} limit 1
    ) conv
    cross join lateral (select ${aliasedColumns(contacts, 'c.')} from ${contacts} where ${contacts.id} = conv.contact_id limit 1) c
    cross join lateral (select ${aliasedColumns(phoneNumbers, 'n.')} from ${phoneNumbers} where ${phoneNumbers.id} = conv.phone_number_id limit 1) n
    cross join lateral (
      select ${aliasedColumns(twilioAccounts, 'a.')} from ${twilioAccounts} where ${twilioAccounts.id} = ${col('m', messages.twilioAccountId)} limit 1
    ) a
    where ${col('m', messages.tenantId)} = v.tenant_id and conv.tenant_id = v.tenant_id
      and ${col('c', contacts.tenantId)} = v.tenant_id and ${col('n', phoneNumbers.tenantId)} = v.tenant_id
      and ${col('a', twilioAccounts.tenantId)} = v.tenant_id`;
});

/**
 * The jobs' messages (`jobs`: a CTE with tenant_id and message_id), each probed by its primary key
 * and kept only when it is the job's tenant's, as the ids an UPDATE then joins on alone. Joined on
 * (tenant_id, id), the updates of the two steps below walked the tenant's messages by an index on
 * tenant_id under young statistics, and the SENT step hashed a sequential scan of them all (its
 * cached plan made while the table was small: 769 buffers read for 9 messages at 10,000 rows in
 * the bench; test/queries/hot-plans.test.ts).
 */
function messagesOfJobs(jobs: 'lease' | 'v', carry?: 'twilio_sid') {
  return sql`select m.id${carry ? sql.raw(`, ${jobs}.${carry}`) : sql``} from ${sql.raw(jobs)}
      cross join lateral (select ${messages.id} as id, ${messages.tenantId} as tenant_id from ${messages} where ${messages.id} = ${sql.raw(jobs)}.message_id limit 1) m
      where m.tenant_id = ${sql.raw(jobs)}.tenant_id`;
}

const markSendingStatement = builtOnce<StepParam>(
  () => sql`
    with v as (select * from ${jobsTable({ name: 'hold_ms', type: 'int' })}),
    lease as (
      update ${outbox} set ${setClauses(outbox, { lockedUntil: sql`now() + v.hold_ms * interval '1 millisecond'`, maybeSent: sql`true` })}
      from v
      where ${outbox.id} = v.job_id and ${outbox.tenantId} = v.tenant_id and ${outbox.lockedBy} = ${sql.placeholder('workerId')}
      returning ${outbox.id} as job_id, v.tenant_id, v.message_id
    ),
    target as (${messagesOfJobs('lease')}),
    moved as (
      update ${messages} set ${setClauses(messages, { status: sql`${MessageStatus.SENDING}`, updatedAt: sql`now()` })}
      from target
      where ${messages.id} = target.id
        and ${messages.status} in (${sql.join(statusesBefore(MessageStatus.SENDING).map((s) => sql`${s}`), sql`, `)})
      returning ${messages.id}, ${messages.tenantId}, ${messages.conversationId}, ${messages.createdAt}
    ),
    -- Two replies of one conversation in one batch: announced in the order they were written.
    webhook_events as (${insertWebhookEvents(sql`
      select moved.tenant_id, 'MESSAGE_STATUS_CHANGED' as event_type, moved.id as subject_id, moved.conversation_id, moved.created_at as ord from moved
    `)})
    select lease.job_id::text as job_id, (moved.id is not null) as moved
    from lease left join moved on moved.id = lease.message_id
  `,
);

const recordSentStatement = builtOnce<StepParam>(
  () => sql`
    with v as (select * from ${jobsTable({ name: 'twilio_sid', type: 'text' })}),
    done as (
      delete from ${outbox} using v
      where ${outbox.id} = v.job_id and ${outbox.tenantId} = v.tenant_id and ${outbox.lockedBy} = ${sql.placeholder('workerId')}
    ),
    target as (${messagesOfJobs('v', 'twilio_sid')}),
    sent as (
      update ${messages} set ${setClauses(messages, {
        twilioSid: sql`coalesce(${messages.twilioSid}, target.twilio_sid)`,
        status: sql`case when ${messages.status} in (${sql.join(statusesBefore(MessageStatus.SENT).map((s) => sql`${s}`), sql`, `)})
          then ${MessageStatus.SENT}::message_status else ${messages.status} end`,
        updatedAt: sql`now()`,
      })}
      from target
      where ${messages.id} = target.id
      returning ${messages.id}, ${messages.tenantId}, ${messages.conversationId}, ${messages.status}, ${messages.createdAt}
    ),
    -- SENT now (a callback that got further first leaves only the SID to fill: no event).
    webhook_events as (${insertWebhookEvents(sql`
      select sent.tenant_id, 'MESSAGE_STATUS_CHANGED' as event_type, sent.id as subject_id, sent.conversation_id, sent.created_at as ord
      from sent where sent.status = ${MessageStatus.SENT}::message_status
    `)})
    select id from sent
  `,
);

/**
 * The dispatcher's statements for a batch of claimed jobs: one statement per step for the whole
 * batch, whatever its size (load, lease + SENDING, SENT). A batch spans tenants, so these are not
 * bound to one: every row is matched on its job's (tenant_id, id) pair, never on an id alone, and
 * every joined row must belong to the job's tenant. Every outbox write is fenced by the lease
 * (`locked_by`), so a dispatcher that lost a job (it stalled past its lease and someone else took
 * it) changes nothing of it.
 */
export class OutboxBatchRepository {
  constructor(
    private readonly db: Db,
    /** This dispatcher's identity in locked_by. */
    private readonly workerId: string,
  ) {}

  /** The jobs' messages with their contact, sending number and account, keyed by message id. */
  async load(jobs: readonly JobRef[]): Promise<Map<string, SendContext>> {
    if (jobs.length === 0) return new Map();
    const rows = rowsOf<Record<string, unknown>>(await this.db.execute(loadStatement(jobValues(jobs))));
    return new Map(
      rows.map((r) => {
        const context: SendContext = {
          message: tableRow(messages, r, 'm.'),
          contact: tableRow(contacts, r, 'c.'),
          phoneNumber: tableRow(phoneNumbers, r, 'n.'),
          account: tableRow(twilioAccounts, r, 'a.'),
        };
        return [context.message.id, context];
      }),
    );
  }

  /**
   * Before calling Twilio: re-checks that each job is still ours and extends its lease by its
   * `holdMs`, and moves its message to SENDING unless it is there or further. A job missing from
   * the answer is not held: another dispatcher claimed it, do not send. A lease that ran out but
   * that nobody claimed is still ours: a claim rewrites locked_by.
   */
  async markSending(jobs: readonly LeaseHold[]): Promise<Map<number, { moved: boolean }>> {
    if (jobs.length === 0) return new Map();
    const values = { ...jobValues(jobs), extra: arrayLiteral(jobs.map((j) => Math.ceil(j.holdMs))), workerId: this.workerId };
    const result = await this.db.execute(markSendingStatement(values));
    return new Map(rowsOf<{ job_id: string; moved: boolean }>(result).map((r) => [Number(r.job_id), { moved: r.moved === true }]));
  }

  /**
   * Twilio accepted the messages: each SENT with its SID, and its job goes, in one statement. A
   * status callback may have got here first and moved a message further (it carries our id):
   * then only the SID is filled in. Recorded even if the lease was lost meanwhile: the SID is
   * what stops whoever holds the job now from sending it again. Answers the messages updated.
   */
  async recordSent(results: readonly SentResult[]): Promise<Set<string>> {
    if (results.length === 0) return new Set();
    const values = { ...jobValues(results), extra: arrayLiteral(results.map((r) => r.twilioSid)), workerId: this.workerId };
    const result = await this.db.execute(recordSentStatement(values));
    return new Set(rowsOf<{ id: string }>(result).map((r) => r.id));
  }
}
