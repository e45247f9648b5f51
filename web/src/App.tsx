import { useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { loadSession, saveSession, type Session } from './auth';
import { createConnection } from './connection';
import { Console } from './Console';
import { SignIn } from './SignIn';

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const signOut = () => {
    saveSession(null);
    setSession(null);
  };
  if (!session) {
    return (
      <SignIn
        onSignedIn={(s) => {
          saveSession(s);
          setSession(s);
        }}
      />
    );
  }
  return <SignedIn key={session.token} session={session} onSignOut={signOut} />;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const connection = useMemo(() => createConnection(session.token, onSignOut), [session.token]);
  useEffect(() => () => connection.dispose(), [connection]);
  return (
    <Provider value={connection.client}>
      <Console session={session} connection={connection} onSignOut={onSignOut} />
    </Provider>
  );
}
