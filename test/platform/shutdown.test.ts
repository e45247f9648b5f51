import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const root = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'sms-inbox-shutdown-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('graceful shutdown', () => {
  it('on SIGTERM closes sockets, finishes, and exits 0 well within 10 s', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', DISPATCHER_ENABLED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const url = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`server did not start: ${stdout}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /ready at (http:\/\/[^\s/]+)\/graphql/.exec(stdout);
          if (match) {
            clearTimeout(timer);
            done(match[1]!);
          }
        });
      });
      // A user and an open graphql-ws connection, to prove sockets are drained.
      const signUp = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { signUp(input: {tenantName: "Down", name: "D", email: "down@example.com", password: "long enough"}) { token } }' }),
      });
      const token = ((await signUp.json()) as { data: { signUp: { token: string } } }).data.signUp.token;
      const socket = new WebSocket(url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
      const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
      await new Promise<void>((done) => {
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && done());
      });

      const started = Date.now();
      child.kill('SIGTERM');
      const [code, closeCode] = await Promise.all([exited, closed]);
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(closeCode).toBe(1001); // graphql-ws: "Going away"
      expect(stdout).toMatch(/"msg":"server stopped"/);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
