import 'reflect-metadata';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { formatGraphQLError } from '../../src/graphql/format-error.js';
import { decodeCursor, encodeCursor, pageSize, MAX_PAGE_SIZE } from '../../src/graphql/pagination.js';
import { httpStatusOf } from '../../src/http/domain-errors.js';
import { optChangeOf } from '../../src/modules/inbound/opt-out.js';
import { MessageStatus } from '../../src/modules/messages/message.enums.js';
import { canAdvance, statusesBefore } from '../../src/modules/messages/message-status.js';
import { DomainError, ErrorCode, badInput } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';

/** The thrown value of `fn` (fails the test when nothing is thrown). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const FORWARD = [MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ];
const statuses = Object.values(MessageStatus) as MessageStatus[];

describe('message status ordering', () => {
  it('moves forward along QUEUED < SENDING < SENT < DELIVERED < READ, never back', () => {
    for (let i = 0; i < FORWARD.length; i++) {
      for (let j = 0; j < FORWARD.length; j++) expect(canAdvance(FORWARD[i]!, FORWARD[j]!), `${FORWARD[i]} → ${FORWARD[j]}`).toBe(j > i);
    }
  });

  it('never leaves a final status, nor READ', () => {
    for (const to of statuses) {
      expect(canAdvance(MessageStatus.FAILED, to)).toBe(false);
      expect(canAdvance(MessageStatus.UNDELIVERED, to)).toBe(false);
      expect(canAdvance(MessageStatus.READ, to)).toBe(false);
    }
  });

  it('statusesBefore(to) is exactly the set canAdvance admits (what the status UPDATE relies on)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.constantFrom(...statuses), (from, to) => {
        expect(statusesBefore(to).includes(from)).toBe(canAdvance(from, to));
      }),
    );
  });
});

describe('opt-out keywords', () => {
  it('only a body that is exactly one keyword counts, any case and spacing', () => {
    expect(optChangeOf('  stop ')).toBe('OPT_OUT');
    expect(optChangeOf('Unsubscribe')).toBe('OPT_OUT');
    expect(optChangeOf('start')).toBe('OPT_IN');
    expect(optChangeOf('please stop texting me')).toBeNull();
    expect(optChangeOf('HELP')).toBeNull();
  });

  it("Twilio's OptOutType wins over the body", () => {
    expect(optChangeOf('hello', 'STOP')).toBe('OPT_OUT');
    expect(optChangeOf('stop', 'START')).toBe('OPT_IN');
    expect(optChangeOf('stop', 'HELP')).toBe('OPT_OUT');
  });
});

describe('keyset cursors and page sizes', () => {
  it('round-trips any cursor we issue', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }), fc.uuid(), (date, micros, id) => {
        const ts = date.toISOString().replace(/Z$/, `${String(micros).padStart(3, '0')}Z`);
        expect(decodeCursor(encodeCursor({ ts, id }), 'after')).toEqual({ ts, id });
      }),
    );
  });

  it('refuses a cursor we did not issue with BAD_USER_INPUT naming the argument', () => {
    for (const raw of ['', 'not-a-cursor', Buffer.from('2024-01-01|x').toString('base64url')]) {
      const err = thrown(() => decodeCursor(raw, 'before'));
      expect(err).toBeInstanceOf(DomainError);
      expect(err).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'before' } });
    }
  });

  it(`first: default 20, 1..${MAX_PAGE_SIZE}, otherwise BAD_USER_INPUT`, () => {
    expect(pageSize(null)).toBe(20);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
    for (const bad of [0, -1, MAX_PAGE_SIZE + 1, 1.5]) expect(thrown(() => pageSize(bad))).toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
  });
});

describe('domain errors at the edges', () => {
  const silent = createLogger('silent');

  it('GraphQL: every code reaches the client as extensions.code with its details', () => {
    for (const code of Object.values(ErrorCode)) {
      const formatted = formatGraphQLError({ message: 'x' }, new DomainError(code, 'Because', { field: 'f' }), silent);
      expect(formatted).toMatchObject({ message: 'Because', extensions: { code, field: 'f' } });
    }
  });

  it('GraphQL: anything else is INTERNAL_SERVER_ERROR without internals', () => {
    const formatted = formatGraphQLError({ message: 'relation "x" does not exist' }, new Error('relation "x" does not exist'), silent);
    expect(formatted).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('REST: every code has a 4xx/5xx status', () => {
    for (const code of Object.values(ErrorCode)) expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
    expect(httpStatusOf(badInput('x').code)).toBe(400);
    expect(httpStatusOf(ErrorCode.NOT_FOUND)).toBe(404);
  });
});

describe('config', () => {
  it('is frozen once loaded, nested settings included', () => {
    const config = loadConfig({ DATA_DIR: 'memory://', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.dispatcher)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
