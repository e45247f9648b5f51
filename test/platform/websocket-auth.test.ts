import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signUpTenant } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

interface Outcome {
  messages: Array<{ type: string }>;
  closeCode: number | null;
}

/** Speaks graphql-transport-ws by hand: init with `payload`, then (if acked) a subscribe. */
function handshake(url: string, payload: Record<string, unknown> | undefined): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const messages: Outcome['messages'] = [];
    const timer = setTimeout(() => {
      socket.close();
      resolve({ messages, closeCode: null });
    }, 3000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(payload ? { payload } : {}) })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      messages.push(message);
      if (message.type === 'connection_ack') {
        clearTimeout(timer);
        socket.close(1000);
        resolve({ messages, closeCode: null });
      }
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ messages, closeCode: code });
    });
    socket.on('error', reject);
  });
}

describe('graphql-ws authentication', () => {
  it('closes a connection without a token with 4403 before anything runs', async () => {
    const outcome = await handshake(server.wsUrl, undefined);
    expect(outcome.closeCode).toBe(4403);
    expect(outcome.messages.map((m) => m.type)).not.toContain('connection_ack');
  });

  it('closes a connection with a bad, tampered or expired token', async () => {
    const t = await signUpTenant(server);
    const expired = jwt.sign({ sub: t.userId, tid: t.tenantId, role: 'ADMIN', exp: Math.floor(Date.now() / 1000) - 5 }, server.app.deps.config.jwtSecret);
    for (const authorization of ['Bearer nonsense', `Bearer ${t.token.slice(0, -3)}abc`, `Bearer ${expired}`]) {
      const outcome = await handshake(server.wsUrl, { authorization });
      expect(outcome.closeCode, authorization).toBe(4403);
    }
  });

  it('acknowledges a connection with a valid token in connectionParams.authorization', async () => {
    const t = await signUpTenant(server);
    const outcome = await handshake(server.wsUrl, { authorization: `Bearer ${t.token}` });
    expect(outcome.messages.map((m) => m.type)).toContain('connection_ack');
  });

  it('runs queries over the socket as the token user', async () => {
    const t = await signUpTenant(server);
    const client = server.ws(t.token);
    const result = await new Promise<unknown>((resolve, reject) => {
      let value: unknown;
      client.subscribe({ query: '{ me { id tenant { id } } }' }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
    });
    expect(result).toEqual({ data: { me: { id: t.userId, tenant: { id: t.tenantId } } } });
  });
});
