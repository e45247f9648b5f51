import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signUpTenant } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

// The WebSocket adapter (src/http/graphql-ws-adapter.ts): keep-alive by one timer for all
// sockets, the connection-init timeout, and what a closed socket gives back.
// A short keep-alive on its own server: the other tests keep the default (12 s), so a client slow
// to answer a ping on a busy machine cannot end their sockets first.
let pinging: TestServer;
let server: TestServer;
beforeAll(async () => {
  [pinging, server] = await Promise.all([startTestServer({ WS_KEEPALIVE_MS: '1000' }), startTestServer({ WS_MAX_SOCKETS_PER_USER: '1' })]);
});
afterAll(async () => Promise.all([pinging?.close(), server?.close()]));

interface RawSocket {
  ws: WebSocket;
  pings: number;
  closed: { code: number; reason: string } | null;
  messages: Array<{ type: string; payload?: unknown }>;
}

function raw(options: WebSocket.ClientOptions = {}, on: TestServer = server): Promise<RawSocket> {
  const ws = new WebSocket(on.wsUrl, 'graphql-transport-ws', options);
  const s: RawSocket = { ws, pings: 0, closed: null, messages: [] };
  ws.on('ping', () => s.pings++);
  ws.on('message', (data) => s.messages.push(JSON.parse(String(data)) as RawSocket['messages'][number]));
  ws.on('close', (code, reason) => (s.closed = { code, reason: String(reason) }));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(s));
    ws.once('error', reject);
  });
}

async function connected(token: string, options: WebSocket.ClientOptions = {}, on: TestServer = server): Promise<RawSocket> {
  const s = await raw(options, on);
  s.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitFor(() => s.messages.some((m) => m.type === 'connection_ack') || s.closed !== null, { what: 'the connection ack' });
  return s;
}

describe('WebSocket keep-alive and connection limits', () => {
  it('terminates a socket that does not answer pings; one that answers stays open', async () => {
    const a = await signUpTenant(pinging);
    const b = await signUpTenant(pinging);
    const answering = await connected(a.token, {}, pinging);
    const silent = await connected(b.token, { autoPong: false }, pinging);
    expect(answering.closed).toBeNull();
    expect(silent.closed).toBeNull();
    // Terminated (no close frame: 1006) at its turn after its unanswered ping.
    await waitFor(() => silent.closed !== null, { what: 'the silent socket to be terminated', timeoutMs: 8000 });
    expect(silent.closed!.code).toBe(1006);
    expect(silent.pings).toBeGreaterThanOrEqual(1);
    // The same cycles pinged the answering socket, which is still open.
    await waitFor(() => answering.pings >= 3, { what: 'three pings', timeoutMs: 10_000 });
    expect(answering.closed).toBeNull();
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    answering.ws.close();
  });

  it('spreads the pings of one interval over it rather than writing them all at once', async () => {
    // 10,000 pings written in one loop held the event loop for a few hundred milliseconds (bench
    // scenario 5); a slice per tick keeps each stall short. 20 sockets are one slice each here.
    const tenants = await Promise.all([signUpTenant(pinging), signUpTenant(pinging)]);
    const firstPing = new Map<RawSocket, number>();
    const sockets = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const s = await connected(tenants[i % 2]!.token, {}, pinging);
        s.ws.once('ping', () => firstPing.set(s, performance.now()));
        return s;
      }),
    );
    await waitFor(() => firstPing.size === sockets.length, { what: 'a ping on every socket', timeoutMs: 5000 });
    const times = [...firstPing.values()];
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(100);
    // And none was terminated for answering in its own time.
    await waitFor(() => sockets.every((s) => s.pings >= 2), { what: 'a second ping on every socket', timeoutMs: 5000 });
    expect(sockets.filter((s) => s.closed !== null)).toEqual([]);
    for (const s of sockets) s.ws.close();
  });

  it('closes a socket without connection_init within 3 s (4408)', async () => {
    const s = await raw();
    await waitFor(() => s.closed !== null, { what: 'the init timeout', timeoutMs: 6000 });
    expect(s.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('gives back the user’s socket slot when a socket closes (WS_MAX_SOCKETS_PER_USER=1)', async () => {
    const t = await signUpTenant(server);
    const first = await connected(t.token);
    expect(first.messages.map((m) => m.type)).toEqual(['connection_ack']);
    const refused = await connected(t.token);
    expect(refused.closed?.code).toBe(4429);
    first.ws.close();
    await waitFor(() => first.closed !== null, { what: 'the first socket to close' });
    // The slot is released as the socket closes (its live_sockets row is deleted right after).
    const again = await waitFor(
      async () => {
        const s = await connected(t.token);
        return s.closed === null ? s : undefined;
      },
      { what: 'a new socket to be accepted' },
    );
    expect(again.messages.map((m) => m.type)).toEqual(['connection_ack']);
    again.ws.close();
  });
});
