import type { Client } from 'graphql-ws';
import { sleep, waitFor } from './wait.js';

/** What one subscription received, in order. */
export interface Collected<T = Record<string, any>> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  /** Resolves once `n` events arrived in total. */
  waitForCount(n: number, timeoutMs?: number): Promise<T[]>;
  unsubscribe(): void;
}

/** Subscribes and records every event (the data of the single root field). */
export function collect<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const collected: Collected<T> = {
    events: [],
    errors: [],
    completed: false,
    waitForCount: (n, timeoutMs = 5000) =>
      waitFor(() => (collected.events.length >= n ? collected.events : collected.errors.length > 0 ? failWith(collected.errors) : undefined), {
        timeoutMs,
        what: `${n} subscription events (got ${collected.events.length})`,
      }),
    unsubscribe: () => {},
  };
  collected.unsubscribe = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) collected.errors.push(...result.errors);
        const value = result.data ? Object.values(result.data)[0] : undefined;
        if (value) collected.events.push(value);
      },
      error: (err) => collected.errors.push(err),
      complete: () => {
        collected.completed = true;
      },
    },
  );
  return collected;
}

function failWith(errors: unknown[]): never {
  throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
}

/**
 * graphql-ws does not acknowledge a subscription: wait until the server registered `n` more
 * subscribers on its bus (in-process servers), so an event published next is not missed.
 */
export async function subscribed(bus: { subscriberCount: number }, atLeast: number): Promise<void> {
  await waitFor(() => bus.subscriberCount >= atLeast, { what: `${atLeast} live subscribers` });
  // The subscription's first next() is requested right after subscribe resolves.
  await sleep(10);
}
