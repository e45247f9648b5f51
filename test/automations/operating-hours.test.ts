import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { isNumberOpen, OpeningWatcher, type OpenedNumber } from '../../src/modules/automations/opening-watcher.js';
import { AUTOMATION_ENV, engineOf, automatedRows, manualClock, sentTo, setAutomatedMessage, settle, text } from './helpers.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer(AUTOMATION_ENV);
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const HOURS_FIELDS = 'id name timeZone weekly { day opens closes } closedDates openNow';
const weekdays = (opens: string, closes: string) =>
  ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'].map((day) => ({ day, opens, closes }));

async function createHours(inbox: Inbox, input: Record<string, unknown>) {
  const res = await server.gql(`mutation($input: OperatingHoursInput!) { createOperatingHours(input: $input) { ${HOURS_FIELDS} } }`, { input }, inbox.tenant.token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createOperatingHours as { id: string; openNow: boolean };
}

async function assignHours(inbox: Inbox, operatingHoursId: string | null) {
  const res = await server.gql(
    `mutation($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id operatingHours { id name openNow } } }`,
    { id: inbox.number.id, input: { operatingHoursId } },
    inbox.tenant.token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.updatePhoneNumber as { operatingHours: { id: string; openNow: boolean } | null };
}

describe('operating hours API', () => {
  it('create, list, replace, assign to a number, delete (the number becomes always open)', async () => {
    const inbox = await setUpInbox(server, fake);
    // Tuesday 2026-06-02 10:00 in New York.
    manualClock(server, '2026-06-02T14:00:00Z');
    const created = await createHours(inbox, {
      name: ' Front desk ',
      timeZone: 'America/New_York',
      weekly: [...weekdays('13:00', '17:00'), ...weekdays('09:00', '12:00')],
      closedDates: ['2026-12-25', '2026-07-03', '2026-12-25'],
    });
    expect(created).toMatchObject({
      name: 'Front desk',
      timeZone: 'America/New_York',
      closedDates: ['2026-07-03', '2026-12-25'],
      openNow: true,
    });
    expect((created as unknown as { weekly: unknown[] }).weekly.slice(0, 2)).toEqual([
      { day: 'MONDAY', opens: '09:00', closes: '12:00' },
      { day: 'MONDAY', opens: '13:00', closes: '17:00' },
    ]);

    const replaced = await server.gql(
      `mutation($id: ID!, $input: OperatingHoursInput!) { updateOperatingHours(id: $id, input: $input) { ${HOURS_FIELDS} } }`,
      { id: created.id, input: { name: 'Nights', timeZone: 'Europe/Berlin', weekly: [{ day: 'TUESDAY', opens: '20:00', closes: '24:00' }] } },
      inbox.tenant.token,
    );
    // 14:00Z is 16:00 in Berlin: closed for a 20:00–24:00 schedule.
    expect(replaced.data!.updateOperatingHours).toEqual({
      id: created.id,
      name: 'Nights',
      timeZone: 'Europe/Berlin',
      weekly: [{ day: 'TUESDAY', opens: '20:00', closes: '24:00' }],
      closedDates: [],
      openNow: false,
    });

    expect((await assignHours(inbox, created.id)).operatingHours).toEqual({ id: created.id, name: 'Nights', openNow: false });
    const deleted = await server.gql(`mutation($id: ID!) { deleteOperatingHours(id: $id) }`, { id: created.id }, inbox.tenant.token);
    expect(deleted.data).toEqual({ deleteOperatingHours: true });
    const numbers = await server.gql(`{ phoneNumbers { id operatingHours { id } } operatingHours { id } }`, {}, inbox.tenant.token);
    expect(numbers.data).toEqual({ phoneNumbers: [{ id: inbox.number.id, operatingHours: null }], operatingHours: [] });
  });

  it('bad input is BAD_USER_INPUT and stores nothing; other tenants and agents cannot touch a schedule', async () => {
    const inbox = await setUpInbox(server, fake);
    const create = (input: Record<string, unknown>, token = inbox.tenant.token) =>
      server.gql(`mutation($input: OperatingHoursInput!) { createOperatingHours(input: $input) { id } }`, { input }, token);
    const valid = { name: 'Desk', timeZone: 'America/New_York', weekly: weekdays('09:00', '17:00') };
    expect(errorCode(await create({ ...valid, timeZone: 'Mars/Olympus_Mons' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create({ ...valid, weekly: [{ day: 'MONDAY', opens: '22:00', closes: '02:00' }] }))).toBe('BAD_USER_INPUT');
    expect(
      errorCode(await create({ ...valid, weekly: [{ day: 'MONDAY', opens: '09:00', closes: '12:00' }, { day: 'MONDAY', opens: '11:30', closes: '14:00' }] })),
    ).toBe('BAD_USER_INPUT');
    expect(errorCode(await create({ ...valid, weekly: [{ day: 'MONDAY', opens: '25:00', closes: '26:00' }] }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create({ ...valid, closedDates: ['2026-13-01'] }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create({ ...valid, name: '  ' }))).toBe('BAD_USER_INPUT');
    const agent = await createAgent(server, inbox.tenant.token);
    expect(errorCode(await create(valid, agent.token))).toBe('FORBIDDEN');
    expect((await server.gql(`{ operatingHours { id } }`, {}, inbox.tenant.token)).data).toEqual({ operatingHours: [] });

    const mine = await createHours(inbox, valid);
    const other = await setUpInbox(server, fake, { tenantName: 'Other' });
    expect((await server.gql(`{ operatingHours { id } }`, {}, other.tenant.token)).data).toEqual({ operatingHours: [] });
    const foreignAssign = await server.gql(
      `mutation($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id } }`,
      { id: other.number.id, input: { operatingHoursId: mine.id } },
      other.tenant.token,
    );
    expect(errorCode(foreignAssign)).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(`mutation($id: ID!) { deleteOperatingHours(id: $id) }`, { id: mine.id }, other.tenant.token))).toBe('NOT_FOUND');
  });
});

describe('OUT_OF_HOURS', () => {
  it('a text at 22:00 local gets one OUT_OF_HOURS text (not the GREETING); the next closed night gets another', async () => {
    const inbox = await setUpInbox(server, fake);
    const hours = await createHours(inbox, { name: 'Office', timeZone: 'America/New_York', weekly: weekdays('09:00', '17:00') });
    await assignHours(inbox, hours.id);
    await setAutomatedMessage(server, inbox, 'GREETING', 'Welcome');
    await setAutomatedMessage(server, inbox, 'OUT_OF_HOURS', 'We are closed; we open at 9:00.');
    // Tuesday 2026-06-02 22:00 EDT = 02:00Z on Wednesday.
    const clock = manualClock(server, '2026-06-03T02:00:00Z');
    const customer = randomUsNumber();
    await text(server, inbox, customer, 'Can I book for tomorrow?');
    await text(server, inbox, customer, 'hello??'); // same closed stretch: no second text
    clock.set('2026-06-03T14:00:00Z'); // Wednesday 10:00: open, not the first text: nothing
    await text(server, inbox, customer, 'now?');
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['We are closed; we open at 9:00.']);

    clock.set('2026-06-04T03:30:00Z'); // Wednesday 23:30: a new closed stretch
    await text(server, inbox, customer, 'one more thing');
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['We are closed; we open at 9:00.', 'We are closed; we open at 9:00.']);
    const rows = await automatedRows(server, inbox.tenant.tenantId);
    expect(rows.map((r) => r.idempotencyKey)).toEqual([
      `auto:OUT_OF_HOURS:${rows[0]!.conversationId}:2026-06-03T13:00:00.000Z`,
      `auto:OUT_OF_HOURS:${rows[0]!.conversationId}:2026-06-04T13:00:00.000Z`,
    ]);
  });

  it('an open number greets instead; a number with no schedule is always open', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'GREETING', 'Welcome');
    await setAutomatedMessage(server, inbox, 'OUT_OF_HOURS', 'Closed');
    manualClock(server, '2026-06-03T02:00:00Z');
    const customer = randomUsNumber();
    await text(server, inbox, customer, 'hi');
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['Welcome']);
  });
});

describe('opening hook (for routing)', () => {
  it('isNumberOpen follows the clock; the watcher reports a number once when it opens', async () => {
    const inbox = await setUpInbox(server, fake);
    const always = await setUpInbox(server, fake);
    const hours = await createHours(inbox, { name: 'Office', timeZone: 'Europe/Berlin', weekly: weekdays('09:00', '17:00') });
    await assignHours(inbox, hours.id);
    const clock = manualClock(server, '2026-06-02T20:00:00Z'); // Tuesday 22:00 in Berlin
    const deps = server.app.deps;
    expect(await isNumberOpen(deps, inbox.tenant.tenantId, inbox.number.id)).toBe(false);
    expect(await isNumberOpen(deps, always.tenant.tenantId, always.number.id)).toBe(true);

    const heard: OpenedNumber[][] = [];
    const unsubscribe = deps.automations.onNumbersOpened((opened) => {
      heard.push(opened.filter((o) => o.phoneNumberId === inbox.number.id));
    });
    try {
      const watcher = new OpeningWatcher(deps, () => engineOf(server).openedListeners);
      const mine = async () => (await watcher.tick()).filter((o) => o.phoneNumberId === inbox.number.id);
      expect(await mine()).toEqual([]); // first look: closed
      clock.set('2026-06-03T06:59:00Z'); // 08:59
      expect(await mine()).toEqual([]);
      clock.set('2026-06-03T07:00:00Z'); // 09:00: opens
      expect(await isNumberOpen(deps, inbox.tenant.tenantId, inbox.number.id)).toBe(true);
      expect(await mine()).toEqual([{ tenantId: inbox.tenant.tenantId, phoneNumberId: inbox.number.id }]);
      expect(await mine()).toEqual([]); // still open: not again
      // The listeners heard it (from this watcher, and from the server's own, which runs on the same clock).
      await waitFor(() => heard.some((h) => h.length > 0), { what: 'the numbers-opened listener' });
      for (const h of heard.filter((x) => x.length > 0)) expect(h).toEqual([{ tenantId: inbox.tenant.tenantId, phoneNumberId: inbox.number.id }]);
    } finally {
      unsubscribe();
    }
  });
});
