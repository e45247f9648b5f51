/**
 * The console's working tools in a real browser (Debian's Chromium through playwright-core)
 * against the real server in sandbox mode, as its own process with its demo seed: attachments,
 * notes, labels, quick replies, transfers, conversationRemoved, presence and the admin pages.
 * A fresh data folder on PGlite, or a fresh Postgres database when TEST_DATABASE_URL is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { makePng } from '../helpers/png.js';
import { freePort, startSandboxProcess, type SandboxProcess } from '../helpers/sandbox-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const run = Math.random().toString(36).slice(2, 8);
const WAIT = 20_000;

interface SandboxInfo {
  tenantSlug: string;
  users: { role: string; name: string; email: string; password: string }[];
  demoNumbers: { e164: string; description: string | null }[];
}

let server: SandboxProcess;
let browser: Browser;
let info: SandboxInfo;
let origin: string;
let agentPage: Page;
let adminToken: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** A customer number of its own per test: tests never see each other's conversations. */
const newCustomer = () => `+1415444${String(Math.floor(1000 + Math.random() * 8999))}`;
const formatted = (e164: string) => e164.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '+1 $1 $2 $3');

async function customerTexts(from: string, body: string, to = info.demoNumbers[0]!.e164) {
  const res = await fetch(`${server.url}/sandbox/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, to, body }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function gql<T>(query: string, variables: Record<string, unknown>, token = adminToken): Promise<T> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: T; errors?: { message: string }[] };
  expect(json.errors, JSON.stringify(json.errors)).toBeUndefined();
  return json.data!;
}

/** `live: false` stops once the inbox is shown, whether or not its socket is up. */
async function signIn(page: Page, email: string, password: string, { live = true } = {}) {
  page.setDefaultTimeout(WAIT);
  await page.goto(`${origin}/`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel(/^Workspace/).fill(info.tenantSlug);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  if (live) await page.getByText('Live', { exact: true }).waitFor();
}

async function newPage(width = 1400, height = 900): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport: { width, height } });
  cleanups.push(() => context.close());
  context.setDefaultTimeout(WAIT);
  return context.newPage();
}

/** A customer texts in; the agent opens the conversation. */
async function openNewConversation(body: string): Promise<string> {
  const from = newCustomer();
  await customerTexts(from, body);
  await agentPage.locator('button.conversation', { hasText: body }).click();
  await agentPage.locator('li.message.inbound', { hasText: body }).waitFor();
  return from;
}

const row = (text: string) => agentPage.locator('button.conversation', { hasText: text });
const agent = () => info.users.find((u) => u.role === 'AGENT' && u.email.startsWith('bo'))!;
const admin = () => info.users.find((u) => u.role === 'ADMIN')!;

describe.skipIf(!chromiumAvailable)('agent console tools in Chromium (sandbox mode)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'sms-inbox-console-tools-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    server = await startSandboxProcess({
      NODE_ENV: 'test',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...(database.kind === 'postgres' ? database.env : {}),
      LOG_LEVEL: 'warn',
      SANDBOX_FAILURE_PERCENT: '0',
      DISPATCHER_POLL_MS: '100',
      PACING_ENABLED: 'false',
    }, 420_000);
    cleanups.push(() => server.kill());
    origin = `http://localhost:${port}`;
    info = (await (await fetch(`${server.url}/sandbox/info`)).json()) as SandboxInfo;
    const login = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation ($i: LogInInput!) { logIn(input: $i) { token } }',
        variables: { i: { email: admin().email, password: admin().password, tenantSlug: info.tenantSlug } },
      }),
    });
    adminToken = ((await login.json()) as { data: { logIn: { token: string } } }).data.logIn.token;
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    agentPage = await newPage();
    agentPage.on('dialog', (d) => void d.accept());
    await signIn(agentPage, agent().email, agent().password);
  }, 480_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('shows the seeded demo: teams, labels, named contacts and notes', async () => {
    const seeded = row('Maria Lopez');
    await seeded.waitFor();
    await seeded.getByText('booking').waitFor();
    await seeded.getByText('Front desk', { exact: true }).waitFor();
    await seeded.click();
    await agentPage.locator('li.note', { hasText: 'Prefers afternoons' }).waitFor();
    await agentPage.getByTestId('assignment').getByText(/Team: Front desk/).waitFor();
  });

  it('attaches an image and sends it: a thumbnail before and after, and the simulated Twilio receives its MediaUrl', async () => {
    const customer = await openNewConversation(`Can you send me the map? (${run})`);
    const png = makePng(64, 48, [200, 40, 40], [255, 255, 255]);
    await agentPage.getByLabel('Attach files').setInputFiles({ name: 'map.png', mimeType: 'image/png', buffer: png });
    const attachment = agentPage.getByTestId('attachments').locator('li', { hasText: 'map.png' });
    await attachment.locator('img').waitFor();
    await attachment.and(agentPage.locator('[data-state="ready"]')).waitFor();
    await expect(agentPage.getByTestId('segment-counter').textContent()).resolves.toContain('MMS, 1 attachment');
    const body = `Here is the map (${run})`;
    await agentPage.getByLabel('Reply text').fill(body);
    await agentPage.getByRole('button', { name: 'Send', exact: true }).click();
    const sent = agentPage.locator('li.message.outbound', { hasText: body });
    await sent.locator('img').waitFor();
    await agentPage.getByTestId('attachments').waitFor({ state: 'detached' });
    await sent.and(agentPage.locator('[data-status="DELIVERED"]')).waitFor({ timeout: 30_000 });
    // The thumbnail is the uploaded image, served back through its signed link.
    await agentPage.waitForFunction(
      (el) => {
        const image = el as unknown as { complete: boolean; naturalWidth: number };
        return image.complete && image.naturalWidth === 64;
      },
      await sent.locator('img').elementHandle(),
    );

    // The customer's phone (the simulator) got the MMS with a MediaUrl that serves the same bytes.
    const phone = (await (await fetch(`${server.url}/sandbox/phone?number=${encodeURIComponent(customer)}`)).json()) as {
      messages: { direction: string; body: string; media: string[] }[];
    };
    const received = phone.messages.find((m) => m.direction === 'received' && m.body === body);
    expect(received?.media).toHaveLength(1);
    const media = await fetch(received!.media[0]!);
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await media.arrayBuffer()).equals(png)).toBe(true);
  });

  it('adds an internal note to the thread; it stays after a reload and is not sent', async () => {
    const customer = await openNewConversation(`Please note my allergy (${run})`);
    await agentPage.getByRole('button', { name: 'Internal note' }).click();
    const note = `Allergic to latex (${run})`;
    await agentPage.getByLabel('Note text').fill(note);
    await agentPage.getByRole('button', { name: 'Add note' }).click();
    await agentPage.locator('li.note', { hasText: note }).getByText(`Internal note · ${agent().name}`).waitFor();
    await agentPage.reload();
    await agentPage.locator('li.note', { hasText: note }).waitFor();
    // The next tests text in and expect the row live: the reloaded page's socket must be up.
    await agentPage.getByText('Live', { exact: true }).waitFor();
    const phone = (await (await fetch(`${server.url}/sandbox/phone?number=${encodeURIComponent(customer)}`)).json()) as { messages: { body: string }[] };
    expect(phone.messages.map((m) => m.body)).not.toContain(note);
  });

  it('shows a text that arrived while the page was still connecting, once its socket is up', async () => {
    // The page's first list query and its socket start together. Here the socket is held back
    // until a customer has texted in: the list already answered without the text, and the live
    // event went out before any subscription of this page existed. Only the refetch when the
    // socket connects (useRefetchOnConnect) can bring the row.
    const page = await newPage();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      const early: Array<string | Buffer> = [];
      let server: WebSocketRoute | null = null;
      ws.onMessage((message) => (server ? server.send(message) : early.push(message)));
      void held.then(() => {
        server = ws.connectToServer();
        for (const message of early) server.send(message);
      });
    });
    await signIn(page, agent().email, agent().password, { live: false });
    // The list has answered (a seeded row is there) and the socket is not up.
    await page.locator('button.conversation', { hasText: 'Maria Lopez' }).waitFor();
    await page.getByText('Connecting…', { exact: true }).waitFor();

    const body = `Are you open on Saturday? (${run})`;
    await customerTexts(newCustomer(), body);
    // The text is committed and its event published; a marker for "nothing came meanwhile": the
    // held page still shows no row for it, while the agent's connected page does.
    await row(body).waitFor();
    expect(await page.locator('button.conversation', { hasText: body }).count()).toBe(0);

    release();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.locator('button.conversation', { hasText: body }).waitFor();
  });

  it('applies a label, shows it on the row, and filters the inbox by it', async () => {
    const body = `Is my insurance on file? (${run})`;
    await openNewConversation(body);
    const label = `vip-${run}`;
    const details = agentPage.getByTestId('details');
    await details.getByLabel('New label').fill(label);
    await details.getByRole('button', { name: 'Add label' }).click();
    await details.getByTestId('labels').getByText(label).waitFor();
    await row(body).getByTestId('row-label').getByText(label).waitFor();

    await agentPage.getByLabel('Label filter').fill(label.toUpperCase());
    await row('Maria Lopez').waitFor({ state: 'detached' });
    await row(body).waitFor();
    expect(await agentPage.locator('button.conversation').count()).toBe(1);
    await agentPage.getByLabel('Label filter').fill('');
    await row('Maria Lopez').waitFor();

    // Removing it: the row follows live.
    await details.getByRole('button', { name: `Remove label ${label}` }).click();
    await row(body).getByTestId('row-label').waitFor({ state: 'detached' });
  });

  it("inserts a quick reply with the contact's and agent's names filled in, and sends it", async () => {
    await openNewConversation(`Hello there (${run})`);
    const details = agentPage.getByTestId('details');
    const name = `Rita ${run}`;
    await details.getByLabel('Contact name').fill(name);
    await details.getByRole('button', { name: 'Save name' }).click();
    await details.getByText('Name saved.').waitFor();
    await agentPage.locator('#thread-title', { hasText: name }).waitFor();

    await agentPage.getByRole('button', { name: 'Quick replies' }).click();
    await agentPage.getByRole('dialog', { name: 'Quick replies' }).getByRole('button', { name: /^Hello/ }).click();
    const expected = `Hi ${name}, this is ${agent().name} at Demo Dental. How can I help?`;
    const composer = agentPage.getByLabel('Reply text');
    await agentPage.waitForFunction((el) => (el as unknown as { value: string }).value !== '', await composer.elementHandle());
    expect(await composer.inputValue()).toBe(expected);
    await composer.press('Enter');
    await agentPage.locator('li.message.outbound', { hasText: expected }).and(agentPage.locator('[data-status="DELIVERED"]')).waitFor({ timeout: 30_000 });
  });

  it('transfers a conversation to a team the agent is not in: the thread closes with a note and the row goes', async () => {
    const body = `Question about my invoice (${run})`;
    await openNewConversation(body);
    const details = agentPage.getByTestId('details');
    await details.getByLabel('Transfer to team').selectOption({ label: 'Billing' });
    await details.getByRole('button', { name: 'Transfer' }).click();
    await agentPage.getByTestId('conversation-removed').waitFor();
    await row(body).waitFor({ state: 'detached' });
    // The server agrees: the conversation is Billing's now.
    const list = await gql<{ conversations: { edges: { node: { team: { name: string } | null; lastMessage: { body: string } } }[] } }>(
      'query ($s: String) { conversations(first: 5, search: $s) { edges { node { team { name } lastMessage { body } } } } }',
      { s: run },
    );
    expect(list.conversations.edges.find((e) => e.node.lastMessage.body === body)?.node.team?.name).toBe('Billing');
  });

  it("removes a row live when someone else moves the conversation out of the agent's view (conversationRemoved)", async () => {
    await agentPage.getByRole('button', { name: 'Back to the inbox' }).click().catch(() => {});
    // Every status: only conversationRemoved can take the row away.
    await agentPage.getByLabel('Status').selectOption('ALL');
    const from = newCustomer();
    const body = `Moved by the admin (${run})`;
    await customerTexts(from, body);
    await row(body).waitFor();
    const found = await gql<{ conversations: { edges: { node: { id: string; lastMessage: { body: string } } }[] } }>(
      'query ($s: String) { conversations(first: 10, search: $s) { edges { node { id lastMessage { body } } } } }',
      { s: run },
    );
    const id = found.conversations.edges.find((e) => e.node.lastMessage.body === body)!.node.id;
    const teams = await gql<{ teams: { id: string; name: string }[] }>('{ teams { id name } }', {});
    await gql('mutation ($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }', {
      c: id,
      t: teams.teams.find((t) => t.name === 'Billing')!.id,
    });
    await row(body).waitFor({ state: 'detached' });
    await agentPage.getByLabel('Status').selectOption('OPEN');
  });

  it('blocks a contact from the contact panel: their conversation leaves every inbox', async () => {
    const body = `Buy cheap watches (${run})`;
    await openNewConversation(body);
    await agentPage.getByTestId('details').getByRole('button', { name: 'Block contact' }).click();
    await agentPage.getByTestId('conversation-removed').waitFor();
    await row(body).waitFor({ state: 'detached' });
  });

  it("shows the agent's own availability switch, and teammates see it change live", async () => {
    const adminPage = await newPage();
    await signIn(adminPage, admin().email, admin().password);
    await adminPage.getByRole('link', { name: 'Admin' }).click();
    const boRow = adminPage.getByTestId('user-row').filter({ hasText: agent().name });
    await boRow.getByTestId('presence').waitFor();

    await agentPage.getByLabel('My availability').selectOption('AWAY');
    await boRow.getByTestId('presence').getByText('Away').waitFor();
    await agentPage.getByLabel('My availability').selectOption('ONLINE');
    await boRow.getByTestId('presence').getByText('Online').waitFor();
    // The agent's own page follows the same live events: the AWAY one may reach it after the
    // switch to ONLINE (seen once on a loaded machine), and the ONLINE one after that.
    await expect.poll(() => agentPage.getByLabel('My availability').inputValue(), { timeout: 10_000 }).toBe('ONLINE');
  });

  it('lets an admin edit operating hours, and the change is kept', async () => {
    const page = await newPage();
    await signIn(page, admin().email, admin().password);
    await page.getByRole('link', { name: 'Admin' }).click();
    const card = page.getByTestId('hours').filter({ hasText: 'Office hours' });
    await card.getByText('Monday: 08:00–18:00').waitFor();
    await card.getByRole('button', { name: 'Edit Office hours' }).click();
    const form = page.getByRole('form', { name: 'Edit Office hours' });
    await form.getByLabel('Monday closes').fill('17:30');
    await form.getByLabel('Sunday open', { exact: true }).check();
    await form.getByLabel('Sunday opens').fill('10:00');
    await form.getByLabel('Sunday closes').fill('12:00');
    await form.getByRole('button', { name: 'Save hours' }).click();
    await page.getByTestId('admin-notice').getByText('Hours saved.').waitFor();
    await card.getByText('Monday: 08:00–17:30').waitFor();

    await page.reload();
    const again = page.getByTestId('hours').filter({ hasText: 'Office hours' });
    await again.getByText('Monday: 08:00–17:30').waitFor();
    await again.getByText('Sunday: 10:00–12:00').waitFor();
    // The billing number still uses it.
    await page.getByText(/team: Billing · hours: Office hours/).first().waitFor();
  });

  it('lets an admin start the draft campaign and watch its progress live', async () => {
    const page = await newPage();
    await signIn(page, admin().email, admin().password);
    await page.getByRole('link', { name: 'Admin' }).click();
    const campaign = page.getByRole('listitem', { name: 'Campaign Spring cleaning check-ups' });
    await campaign.getByText('draft').waitFor();
    await campaign.getByRole('button', { name: 'Start Spring cleaning check-ups' }).click();
    // Progress arrives live (campaignUpdated, and the page's own refresh while receipts are due): no reload here.
    await campaign.getByText('running').or(campaign.getByText('completed')).first().waitFor();
    const stats = campaign.getByTestId('campaign-stats');
    try {
      await stats.getByText(/^3 recipients · 0 queued · 0 sent · 3 delivered · 0 failed · 0 skipped/).waitFor({ timeout: 60_000 });
    } finally {
      console.log(`campaign stats shown: ${await stats.textContent()}`);
    }
    await campaign.getByText('completed').waitFor({ timeout: 30_000 });
  });

  it('lets an admin add an agent and deactivate them', async () => {
    const page = await newPage();
    await signIn(page, admin().email, admin().password);
    await page.getByRole('link', { name: 'Admin' }).click();
    page.on('dialog', (d) => void d.accept());
    const form = page.getByRole('form', { name: 'Add an agent' });
    await form.getByLabel('Name').fill(`Eve ${run}`);
    await form.getByLabel('Email').fill(`eve-${run}@demo.test`);
    await form.getByLabel('Password').fill('eve long password');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('User added: they can sign in now.').waitFor();
    await page.getByRole('button', { name: `Deactivate Eve ${run}` }).click();
    await page.getByTestId('admin-notice').getByText(`Eve ${run} deactivated.`).waitFor();
    await page.getByRole('button', { name: `Reactivate Eve ${run}` }).waitFor();
    // Deactivated: refused at sign-in.
    const login = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation ($i: LogInInput!) { logIn(input: $i) { token } }',
        variables: { i: { email: `eve-${run}@demo.test`, password: 'eve long password', tenantSlug: info.tenantSlug } },
      }),
    });
    expect(((await login.json()) as { errors?: unknown[] }).errors).toBeDefined();
  });
});
