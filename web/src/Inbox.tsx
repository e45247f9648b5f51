import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useClient, useQuery } from 'urql';
import type { Session } from './auth';
import { formatPhone, formatTime, useLiveEvents, useRefetchOnConnect } from './hooks';
import { NewConversation } from './NewConversation';
import { usePeople, Presence } from './people';
import { CONVERSATIONS, CONVERSATION_REMOVED, CONVERSATION_UPDATED, nextPageCursor, type ConversationStatus, type ConversationView } from './queries';

type Page = { conversations: { edges: { cursor: string; node: ConversationView }[] } };

type ListUpdate = (list: ConversationView[]) => ConversationView[];

/** A reconnection re-reads at most this many rows (ten pages); more load on demand again. */
const MAX_REFRESHED_ROWS = 500;

type StatusFilter = ConversationStatus | 'ALL';
type AssigneeFilter = 'ANYONE' | 'MINE' | 'UNASSIGNED';

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
  const [teamId, setTeamId] = useState('');
  const [label, setLabel] = useState('');
  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const people = usePeople();
  // Typing settles for a moment before the list is asked again.
  useEffect(() => {
    const t = setTimeout(() => setSearch(searchDraft.trim().length >= 2 ? searchDraft.trim() : ''), 300);
    return () => clearTimeout(t);
  }, [searchDraft]);
  const labelFilter = label.trim();
  const variables = {
    status: status === 'ALL' ? null : status,
    assigneeId: assignee === 'MINE' ? session.userId : null,
    unassigned: assignee === 'UNASSIGNED' ? true : null,
    teamId: teamId || null,
    label: labelFilter || null,
    search: search || null,
  };
  const [result] = useQuery<Page>({ query: CONVERSATIONS, variables });
  const [items, setItems] = useState<ConversationView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const client = useClient();
  const [composing, setComposing] = useState(false);

  useEffect(() => {
    if (!result.data) return;
    const edges = result.data.conversations.edges;
    setItems([...edges.map((e) => e.node)].sort(newestFirst));
    setNextCursor(nextPageCursor(edges));
  }, [result.data]);

  // The filter an answer was asked for: an answer for another filter than the one shown is dropped.
  const variablesKey = JSON.stringify(variables);
  const variablesKeyRef = useRef(variablesKey);
  variablesKeyRef.current = variablesKey;

  async function loadMore() {
    if (!nextCursor) return;
    const key = variablesKey;
    setLoadingMore(true);
    try {
      const page = await client.query<Page>(CONVERSATIONS, { ...variables, after: nextCursor }).toPromise();
      // The filter changed while the page was read: it is the old list's next page, not this one's.
      if (key !== variablesKeyRef.current) return;
      const edges = page.data?.conversations.edges;
      if (!edges) return;
      setItems((list) => {
        const known = new Set(list.map((c) => c.id));
        return [...list, ...edges.map((e) => e.node).filter((c) => !known.has(c.id))].sort(newestFirst);
      });
      setNextCursor(nextPageCursor(edges));
    } finally {
      setLoadingMore(false);
    }
  }

  // A (re)connection re-reads what the list shows, every page loaded, not only the first: a
  // reset to the first page would drop the pages the agent had scrolled to. Live events that land
  // while the pages are read are applied again on top of them (a page read before an event must not
  // undo it); a filter changed meanwhile has its own query, so this one's answer is dropped.
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const refreshGeneration = useRef(0);
  const eventsDuringRefresh = useRef<ListUpdate[] | null>(null);
  const applyLive = (update: ListUpdate) => {
    setItems(update);
    eventsDuringRefresh.current?.push(update);
  };

  // Re-reads in flight: the list is aria-busy meanwhile (assistive technology waits for the
  // answer instead of announcing rows about to be replaced).
  const [rereads, setRereads] = useState(0);
  async function refreshShown() {
    setRereads((n) => n + 1);
    try {
      await rereadShown();
    } finally {
      setRereads((n) => n - 1);
    }
  }

  async function rereadShown() {
    const generation = ++refreshGeneration.current;
    const key = variablesKey;
    // Neither a later re-read nor another filter took over: pages of a superseded list are not read on.
    const current = () => generation === refreshGeneration.current && key === variablesKeyRef.current;
    // As many rows as the list shows now, read again at each page: a "Load more" answered while
    // this runs makes the list longer, and its rows must not be dropped by the answer below.
    const wanted = () => Math.min(Math.max(itemsRef.current.length, 1), MAX_REFRESHED_ROWS);
    const updates: ListUpdate[] = [];
    eventsDuringRefresh.current = updates;
    const rows: ConversationView[] = [];
    let after: string | null = null;
    try {
      do {
        const page = await client.query<Page>(CONVERSATIONS, { ...variables, after }).toPromise();
        const edges: Page['conversations']['edges'] | undefined = page.data?.conversations.edges;
        // Not answered (the server went again): what is shown stays; the next connection retries.
        if (!edges) return;
        rows.push(...edges.map((e) => e.node));
        after = nextPageCursor(edges);
      } while (after && rows.length < wanted() && current());
    } finally {
      if (eventsDuringRefresh.current === updates) eventsDuringRefresh.current = null;
    }
    if (!current()) return;
    const unique = [...new Map(rows.map((c) => [c.id, c])).values()].sort(newestFirst);
    setItems(updates.reduce((list, update) => update(list), unique));
    setNextCursor(after);
  }

  useRefetchOnConnect(epoch, () => void refreshShown());

  const matches = useCallback(
    (c: ConversationView) =>
      (status === 'ALL' || c.status === status) &&
      (assignee === 'ANYONE' || (assignee === 'MINE' ? c.assignee?.id === session.userId : c.assignee === null)) &&
      (!teamId || c.team?.id === teamId) &&
      (!labelFilter || c.labels.some((l) => l.toLowerCase() === labelFilter.toLowerCase())),
    [status, assignee, session.userId, teamId, labelFilter],
  );

  useLiveEvents<{ conversationUpdated: ConversationView }>(CONVERSATION_UPDATED, {}, 'all', (event) => {
    const c = event.conversationUpdated;
    applyLive((list) => {
      const rest = list.filter((x) => x.id !== c.id);
      // A search is the server's to answer: live, only rows already listed are kept current.
      if (search && rest.length === list.length) return list;
      return matches(c) ? [...rest, c].sort(newestFirst) : rest;
    });
  });

  // Transferred away from the agent's teams, or the contact blocked: the row goes.
  useLiveEvents<{ conversationRemoved: string }>(CONVERSATION_REMOVED, {}, 'inbox-removed', ({ conversationRemoved }) => {
    applyLive((list) => list.filter((x) => x.id !== conversationRemoved));
  });

  const knownLabels = [...new Set(items.flatMap((c) => c.labels))].sort();
  const teammates = people.users.filter((u) => u.active && u.id !== session.userId);

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
            <option value="UNASSIGNED">Unassigned</option>
          </select>
        </label>
        <label>
          Team filter
          <select value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">All teams</option>
            {people.teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Label filter
          <input list="known-labels" value={label} onChange={(e) => setLabel(e.target.value)} placeholder="Any" />
          <datalist id="known-labels">
            {knownLabels.map((l) => (
              <option key={l} value={l} />
            ))}
          </datalist>
        </label>
        <label className="search">
          Search
          <input type="search" value={searchDraft} onChange={(e) => setSearchDraft(e.target.value)} placeholder="Name, number or text" />
        </label>
      </div>
      {result.error && !result.data && (
        <p role="alert" className="error">
          Could not load conversations: {result.error.message}
        </p>
      )}
      {result.fetching && items.length === 0 && <p className="muted">Loading…</p>}
      {!result.fetching && items.length === 0 && !result.error && <p className="empty">No conversations.</p>}
      <ul
        ref={listRef}
        className="conversation-list"
        onKeyDown={onKeyDown}
        data-testid="conversation-list"
        aria-busy={rereads > 0 || loadingMore || result.fetching}
      >
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
              {(c.labels.length > 0 || c.team) && (
                <span className="row tags">
                  {c.team && <span className="team-tag">{c.team.name}</span>}
                  {c.labels.map((l) => (
                    <span key={l} className="label-chip" data-testid="row-label">
                      {l}
                    </span>
                  ))}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      {nextCursor && (
        <button type="button" className="load-more" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Load more conversations'}
        </button>
      )}
      {teammates.length > 0 && (
        <details className="teammates">
          <summary>Teammates ({teammates.filter((u) => u.availability === 'ONLINE').length} online)</summary>
          <ul data-testid="teammates">
            {teammates.map((u) => (
              <li key={u.id}>
                {u.name} <Presence availability={u.availability} />
              </li>
            ))}
          </ul>
        </details>
      )}
    </nav>
  );
}
