import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useClient, useQuery } from 'urql';
import type { Session } from './auth';
import { formatPhone, formatTime, useLiveEvents } from './hooks';
import { NewConversation } from './NewConversation';
import { CONVERSATIONS, CONVERSATION_UPDATED, PAGE_SIZE, type ConversationStatus, type ConversationView } from './queries';

type Page = { conversations: { edges: { cursor: string; node: ConversationView }[] } };

type StatusFilter = ConversationStatus | 'ALL';
type AssigneeFilter = 'ANYONE' | 'MINE';

interface Props {
  session: Session;
  epoch: number;
  selectedId: string | null;
  onSelect: (id: string) => void;
}

const newestFirst = (a: ConversationView, b: ConversationView) =>
  b.lastMessageAt.localeCompare(a.lastMessageAt) || b.id.localeCompare(a.id);

export function Inbox({ session, epoch, selectedId, onSelect }: Props) {
  const [status, setStatus] = useState<StatusFilter>('OPEN');
  const [assignee, setAssignee] = useState<AssigneeFilter>('ANYONE');
  const variables = {
    status: status === 'ALL' ? null : status,
    assigneeId: assignee === 'MINE' ? session.userId : null,
  };
  const [result, reexecute] = useQuery<Page>({ query: CONVERSATIONS, variables });
  const [items, setItems] = useState<ConversationView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const client = useClient();
  const [composing, setComposing] = useState(false);

  useEffect(() => {
    if (!result.data) return;
    const edges = result.data.conversations.edges;
    setItems([...edges.map((e) => e.node)].sort(newestFirst));
    setNextCursor(edges.length === PAGE_SIZE ? edges[edges.length - 1]!.cursor : null);
  }, [result.data]);

  async function loadMore() {
    if (!nextCursor) return;
    setLoadingMore(true);
    const page = await client.query<Page>(CONVERSATIONS, { ...variables, after: nextCursor }).toPromise();
    setLoadingMore(false);
    const edges = page.data?.conversations.edges;
    if (!edges) return;
    setItems((list) => {
      const known = new Set(list.map((c) => c.id));
      return [...list, ...edges.map((e) => e.node).filter((c) => !known.has(c.id))].sort(newestFirst);
    });
    setNextCursor(edges.length === PAGE_SIZE ? edges[edges.length - 1]!.cursor : null);
  }

  // After a reconnect: what changed while the socket was down is only in a fresh query.
  useEffect(() => {
    if (epoch > 0) reexecute({ requestPolicy: 'network-only' });
  }, [epoch, reexecute]);

  const matches = useCallback(
    (c: ConversationView) =>
      (status === 'ALL' || c.status === status) && (assignee === 'ANYONE' || c.assignee?.id === session.userId),
    [status, assignee, session.userId],
  );

  useLiveEvents<{ conversationUpdated: ConversationView }>(CONVERSATION_UPDATED, {}, 'all', (event) => {
    const c = event.conversationUpdated;
    setItems((list) => {
      const rest = list.filter((x) => x.id !== c.id);
      return matches(c) ? [...rest, c].sort(newestFirst) : rest;
    });
  });

  // The tab's title counts what waits, so a background tab still tells.
  const unread = items.reduce((n, c) => n + c.unreadCount, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) SMS inbox` : 'SMS inbox';
  }, [unread]);

  const listRef = useRef<HTMLUListElement>(null);
  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...(listRef.current?.querySelectorAll<HTMLButtonElement>('button.conversation') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))];
    next?.focus();
    event.preventDefault();
  };

  return (
    <nav className="inbox" aria-label="Conversations">
      {composing ? (
        <NewConversation
          onCancel={() => setComposing(false)}
          onStarted={(id) => {
            setComposing(false);
            onSelect(id);
          }}
        />
      ) : (
        <button type="button" className="new-button" onClick={() => setComposing(true)}>
          New conversation
        </button>
      )}
      <div className="filters" role="group" aria-label="Filters">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
            <option value="OPEN">Open</option>
            <option value="PENDING">Pending</option>
            <option value="RESOLVED">Resolved</option>
            <option value="ALL">All</option>
          </select>
        </label>
        <label>
          Assignee
          <select value={assignee} onChange={(e) => setAssignee(e.target.value as AssigneeFilter)}>
            <option value="ANYONE">Anyone</option>
            <option value="MINE">Mine</option>
          </select>
        </label>
      </div>
      {result.error && !result.data && (
        <p role="alert" className="error">
          Could not load conversations: {result.error.message}
        </p>
      )}
      {result.fetching && items.length === 0 && <p className="muted">Loading…</p>}
      {!result.fetching && items.length === 0 && !result.error && <p className="empty">No conversations.</p>}
      <ul ref={listRef} className="conversation-list" onKeyDown={onKeyDown} data-testid="conversation-list">
        {items.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className="conversation"
              aria-current={c.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(c.id)}
              data-conversation-id={c.id}
            >
              <span className="row">
                <span className="who">{c.contact.name ?? formatPhone(c.contact.phoneNumber)}</span>
                <time dateTime={c.lastMessageAt}>{formatTime(c.lastMessageAt)}</time>
              </span>
              <span className="row">
                <span className="preview">
                  {c.lastMessage?.direction === 'OUTBOUND' ? 'You: ' : ''}
                  {c.lastMessage ? c.lastMessage.body || '📎 Attachment' : ''}
                </span>
                {c.unreadCount > 0 && (
                  <span className="badge" aria-label={`${c.unreadCount} unread`} data-testid="unread">
                    {c.unreadCount}
                  </span>
                )}
              </span>
              <span className="row meta">
                <span>
                  to {c.phoneNumber.description ?? formatPhone(c.phoneNumber.e164)}
                  {c.assignee ? ` · ${c.assignee.id === session.userId ? 'you' : c.assignee.name}` : ' · unassigned'}
                </span>
                {c.status !== 'OPEN' && <span className={`status status-${c.status.toLowerCase()}`}>{c.status.toLowerCase()}</span>}
                {c.contact.optedOut && <span className="status status-optout">opted out</span>}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {nextCursor && (
        <button type="button" className="load-more" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Load more conversations'}
        </button>
      )}
    </nav>
  );
}
