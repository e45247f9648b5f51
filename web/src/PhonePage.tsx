import { useEffect, useState, type FormEvent } from 'react';
import { formatPhone, formatTime } from './hooks';
import { fetchSandboxInfo, type SandboxInfo } from './sandbox';

interface PhoneMessage {
  sid: string;
  direction: 'sent' | 'received';
  demoNumber: string;
  body: string;
  media: string[];
  mediaCount: number;
  status: string;
  errorCode: number | null;
  automatic: boolean;
  at: string;
}

const POLL_MS = 1000;

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The customer's side in sandbox mode: text the demo numbers, see the replies arrive. */
export function PhonePage() {
  const [info, setInfo] = useState<SandboxInfo | null | undefined>(undefined);
  const [customer, setCustomer] = useState('+14155550199');
  const [demoNumber, setDemoNumber] = useState('');
  const [body, setBody] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [fileKey, setFileKey] = useState(0);
  const [messages, setMessages] = useState<PhoneMessage[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    void fetchSandboxInfo().then((i) => {
      setInfo(i);
      if (i?.demoNumbers[0]) setDemoNumber(i.demoNumbers[0].e164);
    });
  }, []);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const res = await fetch(`/sandbox/phone?number=${encodeURIComponent(customer.replace(/[\s().-]/g, ''))}`);
        // A phone sees a reply once the carrier has it, not while it waits in Twilio's queue.
        const all = res.ok ? ((await res.json()) as { messages: PhoneMessage[] }).messages : null;
        if (all && !stopped) setMessages(all.filter((m) => !(m.direction === 'received' && m.status === 'queued')));
      } catch {
        /* the server is restarting: the next poll catches up */
      }
    };
    void load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [customer]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setError(null);
    try {
      const media = file ? [{ contentType: file.type || 'application/octet-stream', dataBase64: await readAsBase64(file) }] : [];
      const res = await fetch('/sandbox/inbound', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: customer, to: demoNumber, body, media }),
      });
      if (!res.ok) throw new Error(((await res.json()) as { error?: string }).error ?? `HTTP ${res.status}`);
      setBody('');
      setFile(null);
      setFileKey((k) => k + 1);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSending(false);
    }
  }

  if (info === undefined) return <p className="muted">Loading…</p>;
  if (info === null) {
    return (
      <main className="phone-page">
        <h1>Customer phone</h1>
        <p>This page works only when the server runs in sandbox mode (`npm run sandbox`).</p>
      </main>
    );
  }

  return (
    <main className="phone-page">
      <h1>Customer phone</h1>
      <p className="muted">
        Sandbox: texts go through the built-in Twilio simulator to the agents' <a href="/">console</a>.
      </p>
      <form onSubmit={submit} className="phone-form">
        <label>
          Your number (the customer)
          <input
            list="customer-numbers"
            name="from"
            value={customer}
            onChange={(e) => setCustomer(e.target.value)}
            inputMode="tel"
            required
          />
          <datalist id="customer-numbers">
            {info.customers.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
        <label>
          Text this business number
          <select name="to" value={demoNumber} onChange={(e) => setDemoNumber(e.target.value)}>
            {info.demoNumbers.map((n) => (
              <option key={n.e164} value={n.e164}>
                {formatPhone(n.e164)}
                {n.description ? ` (${n.description})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Message
          <textarea name="body" rows={2} value={body} onChange={(e) => setBody(e.target.value)} placeholder="Try STOP, START or HELP too" />
        </label>
        <label>
          Picture (optional)
          <input key={fileKey} type="file" name="media" accept="image/*" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={sending || (!body.trim() && !file)}>
          {sending ? 'Sending…' : 'Send text'}
        </button>
      </form>
      <h2>Texts of {formatPhone(customer)}</h2>
      <ol className="messages phone" role="log" aria-live="polite" aria-label="Texts on this phone" data-testid="phone-messages">
        {messages.length === 0 && <li className="muted">No texts yet.</li>}
        {messages.map((m) => (
          <li key={m.sid} className={`message ${m.direction === 'sent' ? 'outbound' : 'inbound'}`}>
            {m.body && <p className="body">{m.body}</p>}
            {m.media.map((url, i) => (
              <a key={i} href={url} target="_blank" rel="noreferrer">
                Attachment {i + 1}
              </a>
            ))}
            {m.direction === 'sent' && m.mediaCount > 0 && <p className="muted">📎 {m.mediaCount} picture(s) sent</p>}
            <p className="meta">
              <time dateTime={m.at}>{formatTime(m.at)}</time> · {m.direction === 'sent' ? 'to' : 'from'} {formatPhone(m.demoNumber)}
              {m.automatic ? ' · automatic reply from the carrier' : ''}
              {m.direction === 'received' && m.status !== 'delivered' ? ` · ${m.status}${m.errorCode ? ` (${m.errorCode})` : ''}` : ''}
            </p>
          </li>
        ))}
      </ol>
    </main>
  );
}
