import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';

// `npm start` as shipped: scripts/start.mjs running the esbuild bundle (dist/start/main.js) that
// holds the packages too, not the sources through tsx as the other tests do. What only the
// bundle can get wrong: a package that does not survive bundling, the ones left out of it (PGlite,
// the twilio SDK, loaded on first use from node_modules), the data-directory image.

const ROOT = resolve(import.meta.dirname, '../..');
const START = join(ROOT, 'scripts', 'start.mjs');

interface Started {
  child: ChildProcess;
  url: string;
  output(): string;
}

function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [START], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`npm start did not get ready:\n${out}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const ready = /SMS inbox API ready at (http:\/\/[^/\s]+)\/graphql/.exec(out);
      // Logged before that line, but pino writes it asynchronously.
      if (ready && out.includes('"msg":"server listening"')) {
        clearTimeout(timer);
        res({ child, url: ready[1]!, output: () => out });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
}

async function stop(server: Started): Promise<number | null> {
  const exited = new Promise<number | null>((res) => server.child.once('exit', (code) => res(code)));
  server.child.kill('SIGTERM');
  return exited;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: unknown };
}

/** The JSON log line `server listening`. */
function listeningLine(output: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.includes('"msg":"server listening"'));
  expect(line, output).toBeDefined();
  return JSON.parse(line!) as Record<string, unknown>;
}

describe('npm start (the bundle)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sms-inbox-npm-start-'));
  let fake: FakeTwilio;

  beforeAll(async () => {
    // As `npm ci` leaves it (prepare): the bundle, and the image of the current migrations.
    await promisify(execFile)(process.execPath, [START, '--build-only'], { cwd: ROOT, timeout: 180_000 });
    fake = await startFakeTwilio();
  }, 200_000);
  afterAll(async () => {
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a new DATA_DIR from the image, serves the API (the twilio SDK loaded on first use), and keeps it all on restart', async () => {
    // Development mode as `npm start` on a laptop: secrets generated into DATA_DIR.
    const env = { DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'development', OUTBOUND_ALLOW_PRIVATE: 'true' };
    const first = await start(env);
    let token: string;
    try {
      expect(listeningLine(first.output())).toMatchObject({ database: 'pglite', pgliteDataDir: 'image' });
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      const signUp = await gql(
        first.url,
        'mutation { signUp(input: { tenantName: "Bundled", name: "B", email: "bundle@example.com", password: "long enough" }) { token } }',
      );
      expect(signUp.errors).toBeUndefined();
      token = signUp.data.signUp.token as string;
      // Checked against the fake Twilio through the SDK, which the bundle requires from node_modules.
      const creds = fake.addAccount({ friendlyName: 'Bundled Twilio' });
      const connected = await gql(
        first.url,
        'mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { friendlyName } }',
        { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
        token,
      );
      expect(connected).toEqual({ data: { connectTwilioAccount: { friendlyName: 'Bundled Twilio' } } });
    } finally {
      expect(await stop(first)).toBe(0);
    }

    const second = await start(env);
    try {
      expect(listeningLine(second.output())).toMatchObject({ pgliteDataDir: 'existing' });
      const me = await gql(second.url, '{ me { email } twilioAccounts { friendlyName } }', {}, token);
      expect(me).toEqual({ data: { me: { email: 'bundle@example.com' }, twilioAccounts: [{ friendlyName: 'Bundled Twilio' }] } });
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 240_000);
});
