/**
 * Ceilings of the bare framework (Fastify, as the real server), with nothing of ours in between.
 *
 * (a) Ingest, the HTTP limit: the same signed form POST on the same path, answered with the same
 * constant empty TwiML, the body kept raw as the real webhook route does; no signature check, no
 * database.
 *
 * Reads (with READ_DATABASE_URL, READ_TENANT_ID and READ_USER_ID): POST /graphql answers the inbox
 * page of the queries scenario (`conversations(first: 20)` with contact, assignee and last message,
 * as that AGENT sees it) by running the same SQL our server sends for it (one statement: the list
 * with the visibility rule, its contact, assignee and last message joined; prepared, on a pool of
 * the same size) and writing the same JSON; no GraphQL, no authentication. The scenario checks
 * the two answers are equal before measuring.
 *
 * Prints "bare server ready at <url>" on stdout.
 */
import { readFileSync } from 'node:fs';
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
  // Our statement for this page, read from its committed snapshot (test/queries/sql/inbox.sql:
  // ConversationsRepository.list as an agent, with the contact, assignee and last message joined),
  // so the ceiling always runs the very SQL our server sends, with the same parameters.
  // The snapshot is the page of 20 (LIMIT 21, written in the text as ours is); another size, its own LIMIT.
  const LIST = pageStatement().replace(/\blimit 21\)/, `limit ${first + 1})`);
  type Row = Record<string, any>;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/graphql', async (_request, reply) => {
    const rows = await sql.unsafe<Row[]>(LIST, [tenantId, userId, tenantId, userId], { prepare: true });
    const page = rows.slice(0, first);
    const edges = page.map((c) => ({
      cursor: Buffer.from(`${c.cursorTs}|${c.id}`, 'utf8').toString('base64url'),
      node: {
        id: c.id,
        status: c.status,
        unreadCount: c.unread_count,
        lastMessageAt: iso(c.last_message_at),
        contact: c['contact.id'] ? { id: c['contact.id'], phoneNumber: c['contact.phone_number'], name: c['contact.name'], optedOut: c['contact.opted_out'] } : null,
        assignee: c['assignee.id'] ? { id: c['assignee.id'], name: c['assignee.name'], email: c['assignee.email'] } : null,
        lastMessage: c['last_message.id']
          ? { id: c['last_message.id'], body: c['last_message.body'], direction: c['last_message.direction'], status: c['last_message.status'], createdAt: iso(c['last_message.created_at']) }
          : null,
      },
    }));
    const body = {
      data: { conversations: { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null } } },
    };
    return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
  });
}

/** The snapshot's statement for the inbox page as an agent (see LIST). */
function pageStatement(): string {
  const label = '-- inbox page with contact, assignee and last message, as an agent\n';
  const text = readFileSync(new URL('../../test/queries/sql/inbox.sql', import.meta.url), 'utf8');
  const at = text.indexOf(label);
  if (at < 0) throw new Error(`test/queries/sql/inbox.sql has no statement labelled ${label.trim()}`);
  const rest = text.slice(at + label.length);
  const statement = rest.slice(0, rest.indexOf(';\n'));
  if (!/\blimit 21\)/.test(statement)) throw new Error('the inbox page statement no longer says "limit 21)": update bare-server.ts');
  return statement;
}

const port = Number(process.env.PORT ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const address = app.server.address();
const bound = typeof address === 'object' && address ? address.port : port;
process.stdout.write(`bare server ready at http://127.0.0.1:${bound}\n`);
process.on('SIGTERM', () => void app.close().then(() => db?.end({ timeout: 2 })).then(() => process.exit(0)));
