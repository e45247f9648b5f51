import { describe, expect, it } from 'vitest';
import { WakeableIdle } from '../../src/shared/wakeable-idle.js';

/** Resolves to 'woke' if the idle ends before the guard timer, 'slept' otherwise. */
function race(idle: Promise<unknown>, guardMs: number): Promise<'woke' | 'slept'> {
  return Promise.race([idle.then(() => 'woke' as const), new Promise<'slept'>((r) => setTimeout(() => r('slept'), guardMs))]);
}

describe('WakeableIdle (the pause of every polling worker)', () => {
  it('a wake ends the idle long before the poll interval', async () => {
    const idle = new WakeableIdle();
    const pause = idle.idle(60_000);
    idle.wake();
    expect(await race(pause, 1_000)).toBe('woke');
  });

  it('a wake during the round makes the next idle return at once; beginRound forgets earlier wakes', async () => {
    const idle = new WakeableIdle();
    idle.wake();
    expect(await race(idle.idle(60_000), 1_000)).toBe('woke');
    idle.wake();
    idle.beginRound();
    const pause = idle.idle(60_000);
    expect(await race(pause, 50)).toBe('slept');
    idle.wake();
    expect(await race(pause, 1_000)).toBe('woke');
  });

  it('a wake after an idle timed out is not swallowed by it; the answer says which ended it', async () => {
    const idle = new WakeableIdle();
    expect(await idle.idle(1)).toBe(true);
    idle.wake();
    const woken = idle.idle(60_000);
    expect(await race(woken, 1_000)).toBe('woke');
    expect(await woken).toBe(false);
  });

  it('waits the gather delay after a wake, unless stopping', async () => {
    const idle = new WakeableIdle(200);
    const gathered = idle.idle(60_000);
    idle.wake();
    expect(await race(gathered, 20)).toBe('slept');
    expect(await race(gathered, 1_000)).toBe('woke');
    const stopping = idle.idle(60_000, () => true);
    idle.wake();
    expect(await race(stopping, 100)).toBe('woke');
  });
});
