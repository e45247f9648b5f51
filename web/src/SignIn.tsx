import { useEffect, useState, type FormEvent } from 'react';
import { logIn, type Session } from './auth';
import { fetchSandboxInfo, type SandboxInfo } from './sandbox';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [workspace, setWorkspace] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sandbox, setSandbox] = useState<SandboxInfo | null>(null);

  useEffect(() => {
    void fetchSandboxInfo().then(setSandbox);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await logIn(email.trim(), password, workspace.trim() || undefined));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>SMS inbox</h1>
      <form onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label>
          Workspace <span className="hint">(agents: your workspace's short name)</span>
          <input type="text" name="workspace" value={workspace} onChange={(e) => setWorkspace(e.target.value)} />
        </label>
        {error && (
          <p id="sign-in-error" role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {sandbox && (
        <section className="sandbox-note" aria-labelledby="sandbox-title">
          <h2 id="sandbox-title">Sandbox</h2>
          <p>
            This server runs with a simulated Twilio: no real texts are sent. Text the demo numbers from the{' '}
            <a href="/phone">customer phone</a>.
          </p>
          {sandbox.users.length > 0 ? (
            <table>
              <caption>
                Demo users of “{sandbox.tenantName}” (workspace <code>{sandbox.tenantSlug}</code>)
              </caption>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Email</th>
                  <th scope="col">Password</th>
                  <th scope="col">
                    <span className="visually-hidden">Use</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sandbox.users.map((u) => (
                  <tr key={u.email}>
                    <td>{u.role}</td>
                    <td>{u.email}</td>
                    <td>
                      <code>{u.password}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="link"
                        onClick={() => {
                          setEmail(u.email);
                          setPassword(u.password);
                          setWorkspace(sandbox.tenantSlug ?? '');
                        }}
                      >
                        Use {u.name}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>The demo credentials were printed when the sandbox was first started.</p>
          )}
        </section>
      )}
    </main>
  );
}
