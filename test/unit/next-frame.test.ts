import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { nextFrame } from '../../src/modules/live/shared-subscriptions.js';

// The live fan-out writes graphql-ws `next` messages as frames it builds itself (one buffer per
// socket, the result encoded once): a WebSocket client's own parser must read back exactly the
// message ws.send would have produced, at every length encoding (7-bit, 16-bit, 64-bit).
// ws's frame parser (exported at run time, absent from @types/ws).
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void } };

function parse(frame: Buffer): unknown[] {
  const receiver = new Receiver({ isServer: false });
  const messages: unknown[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(JSON.parse(String(data)));
  });
  receiver.on('error', (err: Error) => {
    throw err;
  });
  receiver.write(frame);
  return messages;
}

function frameOf(id: string, payload: unknown): Buffer {
  return nextFrame(id, Buffer.from(`${JSON.stringify(payload)}}`));
}

describe('nextFrame', () => {
  it.each([
    ['short (7-bit length)', 'x'.repeat(10)],
    ['medium (16-bit length)', 'x'.repeat(300)],
    ['long (64-bit length)', 'x'.repeat(70_000)],
    ['length 125/126 boundary', 'x'.repeat(125 - 68)],
  ])('reads back as the graphql-ws message: %s', (_name, body) => {
    const payload = { data: { messageAdded: { id: 'm1', body } } };
    expect(parse(frameOf('op-1', payload))).toEqual([{ id: 'op-1', type: 'next', payload }]);
  });

  it('reads back for any operation id and result (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 600 }), (id, body) => {
        const payload = { data: { messageAdded: { body } } };
        expect(parse(frameOf(id, payload))).toEqual([{ id, type: 'next', payload }]);
      }),
      { numRuns: 300 },
    );
  });
});
