import { AssignmentStrategy } from '../teams/assignment-strategy.js';

/** An ONLINE member as routing sees them while their presence row is locked. */
export interface Candidate {
  userId: string;
  /** OPEN and PENDING conversations assigned to them, across all teams. */
  load: number;
  /** Sorts by when this team last gave them a conversation: '' (never) first. */
  turn: string;
}

/**
 * The rules of the routing choice, stated once in TypeScript: the pass itself runs them inside the
 * database (route_pass, migration 0020_routing_pass_sql, one statement per pass), and
 * test/routing/route-pass.test.ts holds the two to the same answers on random teams and queues.
 *
 * Who gets the next conversation: its previous assignee (a thread the customer reopened) when
 * still eligible; else ROUND_ROBIN takes the member whose turn is oldest, LEAST_BUSY the one with
 * the fewest live conversations (ties: least recently assigned). Only members below capacity.
 */
export function pickAssignee(
  strategy: AssignmentStrategy,
  candidates: Candidate[],
  capacity: number,
  previousAssigneeId: string | null,
): Candidate | null {
  const eligible = candidates.filter((c) => c.load < capacity);
  if (eligible.length === 0) return null;
  const previous = previousAssigneeId ? eligible.find((c) => c.userId === previousAssigneeId) : undefined;
  if (previous) return previous;
  const byTurn = (a: Candidate, b: Candidate) => (a.turn < b.turn ? -1 : a.turn > b.turn ? 1 : a.userId < b.userId ? -1 : 1);
  const order =
    strategy === AssignmentStrategy.LEAST_BUSY ? (a: Candidate, b: Candidate) => a.load - b.load || byTurn(a, b) : byTurn;
  return eligible.reduce((best, c) => (order(c, best) < 0 ? c : best));
}
