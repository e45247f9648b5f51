import { decodeBatch, encodeBatches, newOrigin } from '../../src/events/wire.js';
import { conversationReassignedEvent, conversationRemovedEvent, previousHolderOf, teamsChangedEvent, userUpdatedEvent } from '../../src/events/live-events.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickAssignee, type Candidate } from '../../src/modules/routing/strategy.js';
import { AssignmentStrategy } from '../../src/modules/teams/assignment-strategy.js';

/** Assigns `n` conversations one after the other, as one routing pass does. */
function assign(strategy: AssignmentStrategy, candidates: Candidate[], capacity: number, n: number): string[] {
  const picked: string[] = [];
  for (let i = 0; i < n; i++) {
    const chosen = pickAssignee(strategy, candidates, capacity, null);
    if (!chosen) break;
    chosen.load += 1;
    chosen.turn = `~${String(i).padStart(6, '0')}`;
    picked.push(chosen.userId);
  }
  return picked;
}

const agents = (loads: number[], turns: string[] = loads.map(() => '')): Candidate[] =>
  loads.map((load, i) => ({ userId: `u${i}`, load, turn: turns[i]! }));

describe('routing strategies', () => {
  it('round robin takes members in turn, oldest turn first, and skips members at capacity', () => {
    expect(assign(AssignmentStrategy.ROUND_ROBIN, agents([0, 0, 0], ['2026-01-01T00:00:00.000002', '', '2026-01-01T00:00:00.000001']), 9, 4)).toEqual([
      'u1',
      'u2',
      'u0',
      'u1',
    ]);
    expect(assign(AssignmentStrategy.ROUND_ROBIN, agents([2, 0, 1]), 2, 5)).toEqual(['u1', 'u2', 'u1']);
  });

  it('least busy takes the fewest live conversations, ties to the least recently assigned', () => {
    expect(assign(AssignmentStrategy.LEAST_BUSY, agents([2, 0, 1], ['', '2026-01-01T00:00:00.000001', '']), 10, 3)).toEqual(['u1', 'u2', 'u1']);
  });

  it('a returning customer gets their previous assignee back only while eligible', () => {
    const team = agents([0, 5, 0]);
    expect(pickAssignee(AssignmentStrategy.ROUND_ROBIN, team, 10, 'u1')!.userId).toBe('u1');
    expect(pickAssignee(AssignmentStrategy.ROUND_ROBIN, team, 5, 'u1')!.userId).toBe('u0');
    expect(pickAssignee(AssignmentStrategy.LEAST_BUSY, team, 10, 'someone-gone')!.userId).toBe('u0');
  });

  it('never exceeds capacity, spreads round robin evenly and assigns exactly what fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 300 }), (members, capacity, n) => {
        for (const strategy of [AssignmentStrategy.ROUND_ROBIN, AssignmentStrategy.LEAST_BUSY]) {
          const team = agents(Array.from({ length: members }, () => 0));
          const picked = assign(strategy, team, capacity, n);
          expect(picked).toHaveLength(Math.min(n, members * capacity));
          const counts = team.map((c) => picked.filter((id) => id === c.userId).length);
          expect(Math.max(...counts)).toBeLessThanOrEqual(capacity);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe('routing events on the wire between instances', () => {
  it('carry their type and extra (previous holder, addressee) through a NOTIFY-sized batch', () => {
    const tenantId = '11111111-1111-4111-8111-111111111111';
    const id = '22222222-2222-4222-8222-222222222222';
    const events = [
      conversationReassignedEvent({ id, tenantId }, { teamId: null, assigneeId: id }),
      conversationRemovedEvent({ id, tenantId }, id),
      conversationRemovedEvent({ id, tenantId }),
      userUpdatedEvent({ id, tenantId }),
      teamsChangedEvent(tenantId, id),
    ];
    const decoded = encodeBatches(events, 7999, newOrigin()).flatMap(decodeBatch);
    expect(decoded).toEqual(events);
    expect(previousHolderOf(decoded[0]!)).toEqual({ teamId: null, assigneeId: id });
    expect(previousHolderOf(decoded[3]!)).toBeNull();
  });
});
