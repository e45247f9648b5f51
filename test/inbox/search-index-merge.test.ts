import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Db } from '../../src/db/client.js';
import { GinPendingListMerger } from '../../src/db/gin-pending-merge.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// The search (GIN trigram) indexes keep new entries in a pending list, merged into the index by
// the server in the background (SEARCH_INDEX_MERGE_MS, src/db/gin-pending-merge.ts) rather than
// by the inbound text whose insert overflows the list. Through the real server: texts leave
// pending pages when nothing merges them, the background task merges them, and search finds the
// texts before and after the merge.

let fake: FakeTwilio;

beforeAll(async () => {
  fake = await startFakeTwilio();
});

afterAll(async () => {
  await fake?.close();
});

/** The conversations a search finds, by id. */
async function searchIds(server: TestServer, inbox: Inbox, term: string): Promise<string[]> {
  const res = await server.gql(`query($s: String) { conversations(search: $s, first: 50) { edges { node { id } } } }`, { s: term }, inbox.tenant.token);
  expect(res.errors).toBeUndefined();
  return (res.data!.conversations.edges as Array<{ node: { id: string } }>).map((e) => e.node.id).sort();
}

/** gin_pending_pages_merged_total on the server's /metrics. */
async function mergedPages(server: TestServer): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^gin_pending_pages_merged_total (\d+)/m.exec(metrics)?.[1] ?? NaN);
}

/** `count` customers text a word no other text has; returns the word and their conversations. */
async function textsWithWord(server: TestServer, inbox: Inbox, count: number): Promise<{ word: string; conversations: string[] }> {
  const word = `zq${randomUUID().slice(0, 8)}`;
  const conversations: string[] = [];
  for (let i = 0; i < count; i++) conversations.push(await customerTexts(server, inbox, randomUsNumber(), `Is the ${word} ready? (${i})`));
  return { word, conversations: conversations.sort() };
}

describe('search indexes: pending lists merged in the background', () => {
  it('with the task off, texts wait in the pending lists; one merge empties them and search still finds the texts', async () => {
    const server = await startTestServer({ SEARCH_INDEX_MERGE_MS: '0' });
    try {
      const inbox = await setUpInbox(server, fake);
      const { word, conversations } = await textsWithWord(server, inbox, 5);
      expect(server.app.deps.searchIndexMerge.stats.runs).toBe(0);
      expect(await searchIds(server, inbox, word)).toEqual(conversations);
      // The pages the texts left pending (message bodies, contact numbers), merged now.
      expect(await mergedPages(server)).toBe(0);
      const pages = await server.app.deps.searchIndexMerge.merge();
      expect(pages).toBeGreaterThan(0);
      expect(await mergedPages(server)).toBe(pages);
      expect(await server.app.deps.searchIndexMerge.merge()).toBe(0);
      expect(await searchIds(server, inbox, word)).toEqual(conversations);
      expect(server.app.deps.searchIndexMerge.active).toBe(false);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('the running server merges what texts leave pending, counted on /metrics', async () => {
    const server = await startTestServer({ SEARCH_INDEX_MERGE_MS: '50' });
    try {
      const inbox = await setUpInbox(server, fake);
      const merger = server.app.deps.searchIndexMerge;
      const { word, conversations } = await textsWithWord(server, inbox, 5);
      await waitFor(async () => (await mergedPages(server)) > 0, { timeoutMs: 20_000, what: 'the background merge of the texts’ pending pages, on /metrics' });
      // A run that started after the texts were stored has merged them all: nothing left for this one.
      const runs = merger.stats.runs;
      await waitFor(async () => merger.stats.runs > runs + 1, { timeoutMs: 20_000, what: 'two more background runs' });
      const merged = await mergedPages(server);
      expect(await merger.merge()).toBe(0);
      expect(await mergedPages(server)).toBe(merged);
      expect(await searchIds(server, inbox, word)).toEqual(conversations);
      expect(merger.active).toBe(true);
      await merger.stop();
      expect(merger.active).toBe(false);
    } finally {
      await server.close();
    }
  }, 120_000);

  it.skipIf(!usingPostgres)('a role that does not own the indexes gets a warning, not an error, and nothing is merged', async () => {
    const server = await startTestServer({ SEARCH_INDEX_MERGE_MS: '0' });
    const role = 'sms_test_not_owner';
    const admin = postgres(server.database.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const url = new URL(server.database.env.DATABASE_URL!);
    url.username = role;
    const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`do $$ begin if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role} login; end if; end $$`);
      const inbox = await setUpInbox(server, fake);
      await textsWithWord(server, inbox, 2);
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      // Running on its own: the first run is refused, warns once and stops the task.
      const merger = new GinPendingListMerger(() => drizzle(client) as unknown as Db, 20, createLogger('warn', sink));
      merger.start();
      expect(merger.active).toBe(true);
      await waitFor(async () => lines.some((l) => l.includes('not their owner')), { timeoutMs: 20_000, what: 'the not-owner warning' });
      expect(merger.active).toBe(false);
      // Called directly it is refused the same way (one more warning), and nothing was counted.
      expect(await merger.merge()).toBe(0);
      expect(merger.stats.runs).toBe(0);
      expect(lines.filter((l) => l.includes('not their owner'))).toHaveLength(2);
      // The owner's merge still finds the texts' pages pending: the refused call merged nothing.
      expect(await server.app.deps.searchIndexMerge.merge()).toBeGreaterThan(0);
    } finally {
      await client.end({ timeout: 2 });
      await admin.end({ timeout: 2 });
      await server.close();
    }
  }, 120_000);
});
