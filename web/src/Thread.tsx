import { useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import type { Session } from './auth';
import { Composer } from './Composer';
import { ConversationDetails } from './ConversationDetails';
import { formatPhone, formatTime, useLiveEvents, useRefetchOnConnect } from './hooks';
import {
  ADD_NOTE,
  ASSIGN,
  CONVERSATION_REMOVED,
  CONVERSATION_UPDATED,
  NOTES,
  type NoteView,
  MARK_READ,
  MESSAGE_ADDED,
  MESSAGE_UPDATED,
  SEND_MESSAGE,
  SET_STATUS,
  CONVERSATION,
  THREAD_MESSAGES,
  nextPageCursor,
  type ConversationView,
  type MessageView,
} from './queries';

interface ConversationData {
  conversation: ConversationView | null;
}
interface MessagesData {
  conversation: { id: string; messages: { edges: { cursor: string; node: MessageView }[] } } | null;
}

const STATUS_LABEL: Record<MessageView['status'], string> = {
  QUEUED: 'Queued',
  SENDING: 'Sending',
  SENT: 'Sent',
  DELIVERED: 'Delivered',
  READ: 'Read',
  UNDELIVERED: 'Undelivered',
  FAILED: 'Failed',
  RECEIVED: 'Received',
};

// Statuses only move forward (as on the server): a page fetched before a live update must not undo it.
const RANK: Record<MessageView['status'], number> = { QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, READ: 4, UNDELIVERED: 5, FAILED: 5, RECEIVED: 0 };
const fresher = (current: MessageView | undefined, incoming: MessageView) =>
  !current || RANK[incoming.status] >= RANK[current.status] ? incoming : current;

const oldestFirst = (a: MessageView, b: MessageView) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

interface NotesData {
  conversation: { id: string; notes: { edges: { node: NoteView }[] } } | null;
}

export function Thread({ id, session, epoch, onBack }: { id: string; session: Session; epoch: number; onBack: () => void }) {
  const [result, reexecute] = useQuery<ConversationData>({ query: CONVERSATION, variables: { id } });
  const [notesResult, reexecuteNotes] = useQuery<NotesData>({ query: NOTES, variables: { id } });
  const [addedNotes, setAddedNotes] = useState<NoteView[]>([]);
  const [removed, setRemoved] = useState(false);
  const [showDetails, setShowDetails] = useState(() => window.innerWidth > 1000);
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [messagesResult, reexecuteMessages] = useQuery<MessagesData>({ query: THREAD_MESSAGES, variables: { id } });
  const [conversation, setConversation] = useState<ConversationView | null>(null);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [, send] = useMutation(SEND_MESSAGE);
  const [, assign] = useMutation(ASSIGN);
  const [, setStatus] = useMutation(SET_STATUS);
  const [, markRead] = useMutation(MARK_READ);
  const [, addNote] = useMutation<{ addNote: NoteView }>(ADD_NOTE);
  const logRef = useRef<HTMLOListElement>(null);
  const client = useClient();
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (result.data?.conversation) setConversation(result.data.conversation);
  }, [result.data]);

  useEffect(() => {
    const page = messagesResult.data?.conversation?.messages;
    if (!page) return;
    // Newest first: the last edge is the oldest message of the page.
    setOlderCursor((c) => c ?? nextPageCursor(page.edges));
    setMessages((current) => {
      // Keep messages that arrived live but are not on the fetched page yet.
      const byId = new Map(current.map((m) => [m.id, m]));
      for (const e of page.edges) byId.set(e.node.id, fresher(byId.get(e.node.id), e.node));
      return [...byId.values()].sort(oldestFirst);
    });
  }, [messagesResult.data]);

  useRefetchOnConnect(epoch, () => {
    reexecute({ requestPolicy: 'network-only' });
    reexecuteMessages({ requestPolicy: 'network-only' });
    reexecuteNotes({ requestPolicy: 'network-only' });
  });

  // Opening a conversation reads it; so does a customer text arriving while it is open.
  useEffect(() => {
    void markRead({ id });
  }, [id, markRead]);

  // Focus moves to the thread's heading once it is there (keyboard and screen-reader users).
  const loaded = conversation !== null;
  useEffect(() => {
    if (loaded) headingRef.current?.focus();
  }, [loaded]);

  async function loadOlder() {
    if (!olderCursor) return;
    setLoadingOlder(true);
    const page = await client.query<MessagesData>(THREAD_MESSAGES, { id, before: olderCursor }).toPromise();
    setLoadingOlder(false);
    const edges = page.data?.conversation?.messages.edges;
    if (!edges) return;
    setMessages((list) => {
      const known = new Set(list.map((m) => m.id));
      return [...list, ...edges.map((e) => e.node).filter((m) => !known.has(m.id))].sort(oldestFirst);
    });
    setOlderCursor(nextPageCursor(edges));
  }

  const upsert = (m: MessageView) =>
    setMessages((list) => [...list.filter((x) => x.id !== m.id), fresher(list.find((x) => x.id === m.id), m)].sort(oldestFirst));

  useLiveEvents<{ messageAdded: MessageView }>(MESSAGE_ADDED, { id }, id, ({ messageAdded }) => {
    upsert(messageAdded);
    if (messageAdded.direction === 'INBOUND') {
      if (document.visibilityState === 'visible') void markRead({ id });
      // The contact may have opted out (STOP) or back in: their row comes with the conversation.
      reexecute({ requestPolicy: 'network-only' });
    }
  });
  useLiveEvents<{ messageUpdated: MessageView }>(MESSAGE_UPDATED, { id }, id, ({ messageUpdated }) => upsert(messageUpdated));
  // A teammate assigns or resolves it, or the contact opts out: the header and composer follow.
  // A teammate's note comes with a conversationUpdated too.
  useLiveEvents<{ conversationUpdated: ConversationView }>(CONVERSATION_UPDATED, {}, `thread-${id}`, ({ conversationUpdated }) => {
    if (conversationUpdated.id === id) {
      setConversation(conversationUpdated);
      reexecuteNotes({ requestPolicy: 'network-only' });
    }
  });
  // Transferred to a team the agent is not in, or the contact was blocked: out of their view.
  useLiveEvents<{ conversationRemoved: string }>(CONVERSATION_REMOVED, {}, `removed-${id}`, ({ conversationRemoved }) => {
    if (conversationRemoved === id) setRemoved(true);
  });

  const notes = (() => {
    const byId = new Map<string, NoteView>();
    for (const e of notesResult.data?.conversation?.notes.edges ?? []) byId.set(e.node.id, e.node);
    for (const n of addedNotes) byId.set(n.id, n);
    return [...byId.values()];
  })();
  const timeline: ({ kind: 'message'; item: MessageView } | { kind: 'note'; item: NoteView })[] = [
    ...messages.map((m) => ({ kind: 'message' as const, item: m })),
    ...notes.map((n) => ({ kind: 'note' as const, item: n })),
  ].sort((a, b) => a.item.createdAt.localeCompare(b.item.createdAt) || a.item.id.localeCompare(b.item.id));

  // Follow the newest message; loading earlier ones keeps the reader where they are.
  const newestId = timeline[timeline.length - 1]?.item.id;
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [newestId]);

  if (removed) {
    return (
      <section className="thread thread-removed" aria-labelledby="thread-title">
        <header className="thread-header">
          <h2 id="thread-title" tabIndex={-1}>
            Conversation closed
          </h2>
        </header>
        <p className="banner banner-warning" role="status" data-testid="conversation-removed">
          This conversation left your view: it was transferred to a team you are not in, or its contact was blocked.
        </p>
        <button type="button" className="load-more" onClick={onBack}>
          Back to the inbox
        </button>
      </section>
    );
  }

  const loadError = result.error ?? messagesResult.error;
  if (loadError && !conversation) {
    return (
      <p role="alert" className="error">
        Could not load the conversation: {loadError.message}
      </p>
    );
  }
  if (!conversation) {
    return result.fetching ? <p className="muted">Loading…</p> : <p className="empty">This conversation is not available.</p>;
  }

  const mine = conversation.assignee?.id === session.userId;
  const optedOut = conversation.contact.optedOut;
  const blocked = conversation.contact.blocked;

  async function run(action: Promise<{ error?: { message: string }; data?: Record<string, ConversationView> }>) {
    const r = await action;
    if (r.error) setActionError(r.error.message);
    else {
      setActionError(null);
      const updated = r.data && Object.values(r.data)[0];
      if (updated) setConversation(updated);
    }
  }

  async function onSend(body: string, mediaIds: string[]): Promise<boolean> {
    const r = await send({
      input: { conversationId: id, body, idempotencyKey: crypto.randomUUID(), ...(mediaIds.length > 0 ? { mediaIds } : {}) },
    });
    if (r.error) {
      setActionError(r.error.graphQLErrors[0]?.message ?? r.error.message);
      return false;
    }
    setActionError(null);
    if (r.data?.sendMessage) upsert(r.data.sendMessage as MessageView);
    return true;
  }

  return (
    <section
      className="thread"
      aria-labelledby="thread-title"
      onKeyDown={(e) => {
        // Escape leaves the thread for the list (on a phone, the only way back besides the button).
        if (e.key === 'Escape' && !(e.target instanceof HTMLTextAreaElement && e.target.value !== '')) onBack();
      }}
    >
      <header className="thread-header">
        <button type="button" className="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Inbox
        </button>
        <div className="thread-title">
          <h2 id="thread-title" ref={headingRef} tabIndex={-1}>
            {conversation.contact.name ?? formatPhone(conversation.contact.phoneNumber)}
          </h2>
          <p className="muted">
            {formatPhone(conversation.contact.phoneNumber)} → {conversation.phoneNumber.description ?? ''}{' '}
            {formatPhone(conversation.phoneNumber.e164)} · {conversation.status.toLowerCase()} ·{' '}
            {conversation.assignee ? `assigned to ${mine ? 'you' : conversation.assignee.name}` : 'unassigned'}
          </p>
        </div>
        <div className="actions">
          <button type="button" aria-expanded={showDetails} aria-controls="conversation-details" onClick={() => setShowDetails((v) => !v)}>
            Details
          </button>
          <button type="button" onClick={() => void run(assign({ id, assigneeId: mine ? null : session.userId }))}>
            {mine ? 'Unassign' : 'Assign to me'}
          </button>
          {conversation.status === 'RESOLVED' ? (
            <button type="button" onClick={() => void run(setStatus({ id, status: 'OPEN' }))}>
              Reopen
            </button>
          ) : (
            <button type="button" onClick={() => void run(setStatus({ id, status: 'RESOLVED' }))}>
              Resolve
            </button>
          )}
        </div>
      </header>
      {actionError && (
        <p role="alert" className="error">
          {actionError}
        </p>
      )}
      {olderCursor && (
        <button type="button" className="load-more" onClick={() => void loadOlder()} disabled={loadingOlder}>
          {loadingOlder ? 'Loading…' : 'Load earlier messages'}
        </button>
      )}
      <div className="thread-body">
        <div className="thread-main">
          <ol className="messages" ref={logRef} role="log" aria-live="polite" aria-label="Messages" data-testid="messages">
            {timeline.map((t) => (t.kind === 'message' ? <MessageItem key={t.item.id} message={t.item} /> : <NoteItem key={t.item.id} note={t.item} />))}
          </ol>
          <div className="composer-tabs" role="group" aria-label="Write">
            <button type="button" aria-pressed={mode === 'reply'} onClick={() => setMode('reply')}>
              Reply
            </button>
            <button type="button" aria-pressed={mode === 'note'} onClick={() => setMode('note')}>
              Internal note
            </button>
          </div>
          {mode === 'reply' ? (
            <Composer
              conversationId={id}
              token={session.token}
              disabled={blocked || optedOut}
              disabledReason={
                blocked
                  ? 'This contact is blocked: unblock them to reply.'
                  : optedOut
                    ? 'This contact texted STOP: nothing can be sent until they text START.'
                    : null
              }
              onSend={onSend}
            />
          ) : (
            <NoteComposer
              onAdd={async (body) => {
                const r = await addNote({ id, body });
                if (r.error) {
                  setActionError(r.error.graphQLErrors[0]?.message ?? r.error.message);
                  return false;
                }
                setActionError(null);
                if (r.data) setAddedNotes((list) => [...list, r.data!.addNote]);
                return true;
              }}
            />
          )}
        </div>
        {showDetails && (
          <div id="conversation-details" className="details-pane">
            <ConversationDetails conversation={conversation} session={session} onChanged={setConversation} onError={setActionError} />
          </div>
        )}
      </div>
    </section>
  );
}

function MessageItem({ message: m }: { message: MessageView }) {
  const outbound = m.direction === 'OUTBOUND';
  const failed = m.status === 'FAILED' || m.status === 'UNDELIVERED';
  return (
    <li className={`message ${outbound ? 'outbound' : 'inbound'}`} data-message-id={m.id} data-status={m.status}>
      {m.body && <p className="body">{m.body}</p>}
      {m.media.length > 0 && (
        <div className="media">
          {m.media.map((item, i) =>
            item.contentType.startsWith('image/') ? (
              <a key={i} href={item.url} target="_blank" rel="noreferrer">
                <img src={item.url} alt={`Image ${i + 1} ${outbound ? 'sent' : 'from the customer'}`} loading="lazy" />
              </a>
            ) : (
              <a key={i} href={item.url} target="_blank" rel="noreferrer">
                Attachment {i + 1} ({item.contentType})
              </a>
            ),
          )}
        </div>
      )}
      {m.mediaDropped > 0 && <p className="muted">{m.mediaDropped} attachment(s) not shown (type not accepted).</p>}
      <p className="meta">
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
        {outbound && m.source !== 'AGENT' && <span> · {m.source.toLowerCase()}</span>}
        {outbound && (
          <span className={`delivery ${failed ? 'failed' : ''}`} data-testid="delivery">
            {' '}
            · {STATUS_LABEL[m.status]}
            {failed && m.errorCode !== null ? ` (${m.errorCode}${m.errorMessage ? `: ${m.errorMessage}` : ''})` : ''}
          </span>
        )}
      </p>
    </li>
  );
}

function NoteItem({ note }: { note: NoteView }) {
  return (
    <li className="note" data-note-id={note.id} aria-label={`Internal note by ${note.author.name}`}>
      <p className="note-label">Internal note · {note.author.name}</p>
      <p className="body">{note.body}</p>
      <p className="meta">
        <time dateTime={note.createdAt}>{formatTime(note.createdAt)}</time>
      </p>
    </li>
  );
}

/** Internal notes: seen by the team only, never sent to the customer (and possible after STOP). */
function NoteComposer({ onAdd }: { onAdd: (body: string) => Promise<boolean> }) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const canAdd = !busy && body.trim() !== '' && body.length <= 5000;
  async function submit(event?: { preventDefault(): void }) {
    event?.preventDefault();
    if (!canAdd) return;
    setBusy(true);
    const ok = await onAdd(body.trim());
    setBusy(false);
    if (ok) setBody('');
  }
  return (
    <form className="composer composer-note" onSubmit={submit} aria-label="Internal note">
      <label>
        <span className="visually-hidden">Note text</span>
        <textarea
          ref={ref}
          rows={3}
          value={body}
          maxLength={5000}
          aria-label="Note text"
          placeholder="A note for your team (never sent to the customer)"
          onChange={(e) => setBody(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void submit();
            }
          }}
        />
      </label>
      <div className="composer-bar">
        <span className="counter">Only your team sees notes.</span>
        <button type="submit" disabled={!canAdd}>
          {busy ? 'Adding…' : 'Add note'}
        </button>
      </div>
    </form>
  );
}
