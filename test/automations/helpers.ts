import 'reflect-metadata';
import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { conversations, messages } from '../../src/db/schema.js';
import { MessageSource } from '../../src/modules/messages/message.enums.js';
import type { AutomationEngine } from '../../src/modules/automations/automation-engine.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import type { Inbox } from '../helpers/inbox.js';
import type { TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

/** Settings for servers of these tests: the survey sweeper polls often. */
export const AUTOMATION_ENV = { AUTOMATION_POLL_MS: '50' };

/** The server's automation engine (AppDeps.automations). */
export function engineOf(server: TestServer): AutomationEngine {
  return server.app.deps.automations as AutomationEngine;
}

/** Gives the server a clock the test sets (deps.clock is read at each use). */
export function manualClock(server: TestServer, at: string): ManualClock {
  const clock = new ManualClock(at);
  server.app.deps.clock = clock;
  return clock;
}

export async function setAutomatedMessage(server: TestServer, inbox: Inbox, trigger: string, body: string, enabled = true) {
  const res = await server.gql(
    `mutation($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id trigger body enabled } }`,
    { input: { phoneNumberId: inbox.number.id, trigger, body, enabled } },
    inbox.tenant.token,
  );
  if (res.errors) throw new Error(`setAutomatedMessage failed: ${JSON.stringify(res.errors)}`);
  return res.data!.setAutomatedMessage as { id: string; trigger: string; body: string; enabled: boolean };
}

/** A text from `from`, signed; `messageSid` repeats a text (Twilio's retry). Throws unless 200 with empty TwiML. */
export async function text(server: TestServer, inbox: Inbox, from: string, body: string, extra: { messageSid?: string; params?: Record<string, string> } = {}) {
  const res = await sendInbound(server, inbox.account, { from, to: inbox.number.e164, body, messageSid: extra.messageSid, extra: extra.params });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
}

/**
 * Waits until every automated answer started by this server has been decided and every queued
 * outbound message of the tenant has left the outbox: what is not there now will not come.
 */
export async function settle(server: TestServer, tenantId: string): Promise<void> {
  await engineOf(server).drain();
  await waitFor(
    async () => {
      const rows = await server.app.deps.db.select({ status: messages.status }).from(messages).where(eq(messages.tenantId, tenantId));
      return rows.every((r) => r.status !== 'QUEUED' && r.status !== 'SENDING');
    },
    { timeoutMs: 30_000, what: 'the outbox to drain' },
  );
}

/** Bodies POSTed to the fake Twilio (accepted) for one recipient, in order. */
export function sentTo(fake: FakeTwilio, to: string): string[] {
  return fake.messageRequests.filter((r) => r.status === 201 && r.params['To'] === to).map((r) => String(r.params['Body']));
}

export async function automatedRows(server: TestServer, tenantId: string) {
  return server.app.deps.db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, tenantId), eq(messages.source, MessageSource.AUTOMATION)))
    .orderBy(asc(messages.createdAt), asc(messages.id));
}

export async function conversationsOfTenant(server: TestServer, tenantId: string) {
  return server.app.deps.db.select().from(conversations).where(eq(conversations.tenantId, tenantId)).orderBy(asc(conversations.createdAt));
}

export async function resolve(server: TestServer, token: string, conversationId: string) {
  const res = await server.gql(
    `mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { id status } }`,
    { id: conversationId },
    token,
  );
  if (res.errors) throw new Error(`resolve failed: ${JSON.stringify(res.errors)}`);
}
