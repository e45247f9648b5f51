/**
 * Ceilings of the bare framework (Fastify, as the real server), with nothing of ours in between.
 *
 * (a) Ingest, the HTTP limit: the same signed form POST on the same path, answered with the same
 * constant empty TwiML, the body kept raw as the real webhook route does; no signature check, no
 * database.
 *
 * Reads (with READ_DATABASE_URL, READ_TENANT_ID and READ_USER_ID): POST /graphql answers the inbox
 * page of the queries scenario (`conversations(first: 20)` with contact, assignee and last message,
 * as that AGENT sees it) by running the same SQL our server sends for it (the list with the
 * visibility rule, then contacts, users and messages by `= any($1)`, prepared, in parallel on a
 * pool of the same size) and writing the same JSON; no GraphQL, no authentication. The scenario
 * checks the two answers are equal before measuring.
 *
 * Prints "bare server ready at <url>" on stdout.
 */
import Fastify from 'fastify';
import postgres from 'postgres';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/webhooks/twilio/:key/sms', async (_request, reply) => reply.code(200).type('text/xml').send(EMPTY_TWIML));

const readUrl = process.env.READ_DATABASE_URL;
let db: postgres.Sql | null = null;
if (readUrl) {
  const tenantId = process.env.READ_TENANT_ID!;
  const userId = process.env.READ_USER_ID!;
  const first = Number(process.env.READ_FIRST ?? 20);
  db = postgres(readUrl, { max: Number(process.env.READ_POOL_SIZE ?? 10), prepare: true, onnotice: () => {} });
  const sql = db;
  // The statements of test/queries/sql/*.sql (ConversationsRepository.list as an agent, and the
  // findByIds of contacts, users and messages), with the same parameters.
  const LIST = `select "id", "tenant_id", "contact_id", "phone_number_id", "status", "assignee_id", "unread_count", "last_message_at", "last_message_id", "last_read_at", "resolved_at", "resolved_by_id", "first_inbound_at", "first_response_at", "first_responder_id", "created_at", "updated_at", "team_id", "queued_at", "route_after", to_char("last_message_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "cursor_ts" from "conversations" where ("conversations"."tenant_id" = $1 and ("conversations"."assignee_id" = $2::uuid or "conversations"."team_id" is null or "conversations"."team_id" in (
    select "team_members"."team_id" from "team_members"
    where "team_members"."tenant_id" = $3::uuid and "team_members"."user_id" = $4::uuid)) and not exists (select 1 from "contacts" where "contacts"."tenant_id" = "conversations"."tenant_id"
      and "contacts"."id" = "conversations"."contact_id" and "contacts"."blocked")) order by "conversations"."last_message_at" desc, "conversations"."id" desc limit $5`;
  const CONTACTS = `select "id", "tenant_id", "phone_number", "name", "opted_out", "opted_out_at", "city", "state", "zip", "country", "blocked", "last_activity_at", "created_at", "updated_at"
  from "contacts" where ("contacts"."tenant_id" = $1 and "contacts"."id" = any($2::uuid[]))`;
  const USERS = `select "id", "tenant_id", "email", "name", "role", "password_hash", "created_at", "active", "signed_up"
  from "users" where ("users"."tenant_id" = $1 and "users"."id" = any($2::uuid[]))`;
  const MESSAGES = `select "id", "tenant_id", "conversation_id", "twilio_account_id", "direction", "body", "media", "media_dropped", "status", "twilio_sid", "error_code", "error_message", "source", "author_id", "segments", "idempotency_key", "campaign_id", "created_at", "updated_at"
  from "messages" where ("messages"."tenant_id" = $1 and "messages"."id" = any($2::uuid[]))`;
  type Row = Record<string, any>;
  const ids = (rows: Row[], column: string) => `{${[...new Set(rows.map((r) => r[column]).filter(Boolean))].join(',')}}`;
  const byId = (rows: Row[]) => new Map(rows.map((r) => [r.id as string, r]));
  const iso = (d: Date | null) => (d ? d.toISOString() : null);

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/graphql', async (_request, reply) => {
    const rows = await sql.unsafe<Row[]>(LIST, [tenantId, userId, tenantId, userId, first + 1], { prepare: true });
    const page = rows.slice(0, first);
    const [contacts, users, messages] = await Promise.all([
      sql.unsafe<Row[]>(CONTACTS, [tenantId, ids(page, 'contact_id')], { prepare: true }),
      sql.unsafe<Row[]>(USERS, [tenantId, ids(page, 'assignee_id')], { prepare: true }),
      sql.unsafe<Row[]>(MESSAGES, [tenantId, ids(page, 'last_message_id')], { prepare: true }),
    ]);
    const contactOf = byId(contacts);
    const userOf = byId(users);
    const messageOf = byId(messages);
    const edges = page.map((c) => {
      const contact = contactOf.get(c.contact_id);
      const assignee = c.assignee_id ? userOf.get(c.assignee_id) : undefined;
      const last = c.last_message_id ? messageOf.get(c.last_message_id) : undefined;
      return {
        cursor: Buffer.from(`${c.cursor_ts}|${c.id}`, 'utf8').toString('base64url'),
        node: {
          id: c.id,
          status: c.status,
          unreadCount: c.unread_count,
          lastMessageAt: iso(c.last_message_at),
          contact: contact ? { id: contact.id, phoneNumber: contact.phone_number, name: contact.name, optedOut: contact.opted_out } : null,
          assignee: assignee ? { id: assignee.id, name: assignee.name, email: assignee.email } : null,
          lastMessage: last ? { id: last.id, body: last.body, direction: last.direction, status: last.status, createdAt: iso(last.created_at) } : null,
        },
      };
    });
    const body = {
      data: { conversations: { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null } } },
    };
    return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
  });
}

const port = Number(process.env.PORT ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const address = app.server.address();
const bound = typeof address === 'object' && address ? address.port : port;
process.stdout.write(`bare server ready at http://127.0.0.1:${bound}\n`);
process.on('SIGTERM', () => void app.close().then(() => db?.end({ timeout: 2 })).then(() => process.exit(0)));
