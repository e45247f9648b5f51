import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, senderPacing } from '../../src/modules/outbox/outbox.schema.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A server that stops gives back the jobs it claimed but did not send yet (here: waiting for
 * their pacing turn). Its own attempt never called Twilio, so the
 * maybe_sent it set goes; a job that was maybe_sent when it was claimed (an earlier attempt's
 * outcome is still unknown) keeps it, so whoever takes it next looks at Twilio before sending.
 */
// One text per 5 s per number; a 10 s poll makes the claim look 20 s ahead (pacing horizon).
const SLOW_PACING = { PACING_ENABLED: 'true', PACING_LONG_CODE_MPS: '0.2', DISPATCHER_POLL_MS: '10000' };
const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';

let fake: FakeTwilio;
let database: TestDatabase;
let dataDir: string | null = null;

beforeAll(async () => {
  fake = await startFakeTwilio();
  // The same data for two servers in turn: a Postgres database, or PGlite on disk.
  if (usingPostgres) {
    database = await createTestDatabase();
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'pglite-release-'));
    database = { kind: 'pglite', env: { DATA_DIR: dataDir }, drop: async () => {} };
  }
});

afterAll(async () => {
  await fake?.close();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

type Job = typeof outbox.$inferSelect;

/** The outbox rows of `messageIds`, read by a server whose dispatcher is off (it claims nothing), after `change`. */
async function inspect(messageIds: string[], change?: (server: TestServer) => Promise<void>): Promise<Job[]> {
  const server = await startTestServer({ DISPATCHER_ENABLED: 'false' }, database);
  try {
    await change?.(server);
    return await server.app.deps.db.select().from(outbox).where(inArray(outbox.messageId, messageIds)).orderBy(outbox.id);
  } finally {
    await server.close({ dropDatabase: false });
  }
}

describe('jobs held at shutdown', () => {
  it("are released; the stopping server's own maybe_sent goes, an earlier attempt's stays", async () => {
    const posted = (body: string) => fake.messageRequests.some((r) => r.params['Body'] === body) || undefined;
    const ids: string[] = [];
    let server: TestServer | null = await startTestServer(SLOW_PACING, database);
    try {
      const inbox = await setUpInbox(server, fake);
      const conversationId = await customerTexts(server, inbox, randomUsNumber('650'), 'hello');
      for (const body of ['paced 1', 'paced 2', 'paced 3']) {
        const res = await server.gql(SEND, { input: { conversationId, body } }, inbox.tenant.token);
        expect(res.errors).toBeUndefined();
        ids.push(res.data!.sendMessage.id as string);
      }
      const db = server.app.deps.db;
      // The first text goes at once; the two others are claimed, marked SENDING, and wait.
      await waitFor(() => posted('paced 1'), { what: 'the first POST' });
      await waitFor(async () => {
        const held = await db.select().from(outbox).where(inArray(outbox.messageId, ids));
        return held.length === 2 && held.every((j) => j.lockedBy !== null && j.maybeSent) ? held : undefined;
      }, { what: 'two held jobs' });
      await server.close({ dropDatabase: false });
      server = null;

      // Released, and this attempt's flag gone. Then the third text's outcome is made unknown
      // (as if an attempt had died mid-POST, its process killed).
      const released = await inspect(ids, async (s) => {
        const before = await s.app.deps.db.select().from(outbox).where(inArray(outbox.messageId, ids)).orderBy(outbox.id);
        expect(before.map((j) => [j.messageId, j.lockedBy, j.maybeSent])).toEqual([
          [ids[1], null, false],
          [ids[2], null, false],
        ]);
        await s.app.deps.db.update(outbox).set({ maybeSent: true }).where(eq(outbox.messageId, ids[2]!));
        // The slots the first server booked go, so the next one sends the second text at once.
        await s.app.deps.db.delete(senderPacing);
      });
      expect(released.map((j) => j.maybeSent)).toEqual([false, true]);

      // The next server sends the second text and holds the third for its pacing turn.
      server = await startTestServer(SLOW_PACING, database);
      const db2 = server.app.deps.db;
      await waitFor(() => posted('paced 2'), { what: 'the second POST', timeoutMs: 30_000 });
      await waitFor(async () => {
        const held = await db2.select().from(outbox).where(inArray(outbox.messageId, ids));
        return held.length === 1 && held[0]!.lockedBy !== null ? held : undefined;
      }, { what: 'the third job held' });
      await server.close({ dropDatabase: false });
      server = null;

      const left = await inspect(ids);
      expect(left.map((j) => [j.messageId, j.lockedBy, j.maybeSent])).toEqual([[ids[2], null, true]]);
      expect(posted('paced 3')).toBeUndefined();
    } finally {
      await server?.close({ dropDatabase: false });
    }
  }, 120_000);
});
