import { useCallback, useEffect, useState, type MouseEvent } from 'react';
import type { Session } from './auth';
import type { Connection } from './connection';
import { useConnectionState, useEpoch } from './hooks';
import { AdminPage } from './AdminPage';
import { Inbox } from './Inbox';
import { Thread } from './Thread';
import { AVAILABILITY_LABEL, PeopleProvider, usePeople } from './people';
import { useMutation } from 'urql';
import { SET_AVAILABILITY, type Availability, type Person } from './queries';

function conversationIdFromPath(): string | null {
  const m = /^\/inbox\/([0-9a-f-]{36})$/i.exec(location.pathname);
  return m ? m[1]! : null;
}

export function Console({ session, connection, onSignOut }: { session: Session; connection: Connection; onSignOut: () => void }) {
  const state = useConnectionState(connection);
  const epoch = useEpoch(connection);
  const [selectedId, setSelectedId] = useState<string | null>(conversationIdFromPath);
  const [admin, setAdmin] = useState(() => location.pathname === '/admin');

  useEffect(() => {
    const onPop = () => {
      setSelectedId(conversationIdFromPath());
      setAdmin(location.pathname === '/admin');
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const select = useCallback((id: string | null) => {
    history.pushState(null, '', id ? `/inbox/${id}` : '/');
    setSelectedId(id);
    setAdmin(false);
  }, []);

  const go = (event: MouseEvent, toAdmin: boolean) => {
    event.preventDefault();
    history.pushState(null, '', toAdmin ? '/admin' : selectedId ? `/inbox/${selectedId}` : '/');
    setAdmin(toAdmin);
  };

  return (
    <PeopleProvider epoch={epoch}>
    <div className={`console ${selectedId ? 'has-selection' : ''}`}>
      <a className="skip-link" href="#thread">
        Skip to conversation
      </a>
      <header className="topbar">
        <h1>
          SMS inbox <span className="tenant">· {session.tenantName}</span>
        </h1>
        {session.role === 'ADMIN' && (
          <nav className="topnav" aria-label="Sections">
            <a href="/" aria-current={admin ? undefined : 'page'} onClick={(e) => go(e, false)}>
              Inbox
            </a>
            <a href="/admin" aria-current={admin ? 'page' : undefined} onClick={(e) => go(e, true)}>
              Admin
            </a>
          </nav>
        )}
        <div className="topbar-right">
          <span className={`connection connection-${state}`} role="status" aria-live="polite" data-testid="connection">
            {state === 'online' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline — reconnecting…'}
          </span>
          <span className="me">{session.name}</span>
          <AvailabilitySwitch userId={session.userId} />
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {admin && session.role === 'ADMIN' ? (
        <main className="panes">
          <AdminPage session={session} epoch={epoch} />
        </main>
      ) : (
      <div className="panes">
        <Inbox session={session} epoch={epoch} selectedId={selectedId} onSelect={select} />
        <main id="thread" className="thread-pane" tabIndex={-1}>
          {selectedId ? (
            <Thread
              key={selectedId}
              id={selectedId}
              session={session}
              epoch={epoch}
              onBack={() => {
                const previous = selectedId;
                select(null);
                // Back where the agent was in the list (keyboard and screen-reader users).
                requestAnimationFrame(() =>
                  document.querySelector<HTMLButtonElement>(`button[data-conversation-id="${previous}"]`)?.focus(),
                );
              }}
            />
          ) : (
            <p className="empty">Pick a conversation.</p>
          )}
        </main>
      </div>
      )}
    </div>
    </PeopleProvider>
  );
}

/** The agent's own availability: only ONLINE agents get conversations by automatic assignment. */
function AvailabilitySwitch({ userId }: { userId: string }) {
  const people = usePeople();
  const [, setAvailability] = useMutation<{ setAvailability: Person }>(SET_AVAILABILITY);
  const [error, setError] = useState<string | null>(null);
  const me = people.byId.get(userId);
  if (!me) return null;
  return (
    <label className="availability">
      <span className="visually-hidden">My availability</span>
      <select
        aria-label="My availability"
        value={me.availability}
        className={`presence-${me.availability.toLowerCase()}`}
        onChange={async (e) => {
          const r = await setAvailability({ a: e.target.value as Availability });
          if (r.error) setError(r.error.graphQLErrors[0]?.message ?? r.error.message);
          else if (r.data) {
            setError(null);
            people.update(r.data.setAvailability);
          }
        }}
      >
        {(Object.keys(AVAILABILITY_LABEL) as Availability[]).map((a) => (
          <option key={a} value={a}>
            ● {AVAILABILITY_LABEL[a]}
          </option>
        ))}
      </select>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </label>
  );
}
