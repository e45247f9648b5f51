import { useEffect, useRef, useSyncExternalStore } from 'react';
import { useClient } from 'urql';
import type { Connection } from './connection';

export function useConnectionState(connection: Connection) {
  return useSyncExternalStore(connection.subscribe, connection.state);
}

export function useEpoch(connection: Connection) {
  return useSyncExternalStore(connection.subscribe, connection.epoch);
}

/**
 * Calls `refetch` when the socket (re)connects after this view mounted. A view's subscriptions
 * miss what happens while the socket is down, and also what happens between the view's first
 * query and the socket's first connection (a page load sends both at once): only a fresh query
 * has it. A view mounted once the socket is up refetches at the next reconnect only.
 */
export function useRefetchOnConnect(epoch: number, refetch: () => void): void {
  const seen = useRef(epoch);
  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;
  useEffect(() => {
    if (epoch === seen.current) return;
    seen.current = epoch;
    refetchRef.current();
  }, [epoch]);
}

/** Phone numbers as people read them: +1 415 555 0111 for NANP, E.164 otherwise. */
export function formatPhone(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : e164;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/**
 * Calls `handler` once per subscription event (urql's useSubscription keeps only the latest
 * result, so two events between renders would be one). Re-subscribes when `key` changes: the
 * caller names its variables by `key`, since a fresh variables object comes with every render.
 */
export function useLiveEvents<T>(query: string, variables: Record<string, unknown>, key: string, handler: (data: T) => void): void {
  const client = useClient();
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  useEffect(() => {
    const { unsubscribe } = client.subscription<T>(query, variables).subscribe((result) => {
      if (result.data) handlerRef.current(result.data);
    });
    return unsubscribe;
  }, [client, query, key]);
}
