import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { formatPhone } from './hooks';

const NUMBERS = `{ phoneNumbers { id e164 description direction } }`;
const START = `mutation ($input: StartConversationInput!) { startConversation(input: $input) { id } }`;

/** Texting a customer first: pick one of the tenant's numbers, a recipient and a first message. */
export function NewConversation({ onStarted, onCancel }: { onStarted: (id: string) => void; onCancel: () => void }) {
  const [numbers] = useQuery<{ phoneNumbers: { id: string; e164: string; description: string | null }[] }>({ query: NUMBERS });
  const [, start] = useMutation<{ startConversation: { id: string } }>(START);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const firstField = useRef<HTMLSelectElement>(null);
  const list = numbers.data?.phoneNumbers ?? [];

  useEffect(() => firstField.current?.focus(), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const r = await start({ input: { phoneNumberId: from || list[0]?.id, to, body } });
    setBusy(false);
    if (r.error) setError(r.error.graphQLErrors[0]?.message ?? r.error.message);
    else if (r.data) onStarted(r.data.startConversation.id);
  }

  return (
    <form
      className="new-conversation card"
      aria-labelledby={`${id}-title`}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <h2 id={`${id}-title`}>New conversation</h2>
      <label>
        From
        <select ref={firstField} value={from} onChange={(e) => setFrom(e.target.value)}>
          {list.map((n) => (
            <option key={n.id} value={n.id}>
              {formatPhone(n.e164)}
              {n.description ? ` (${n.description})` : ''}
            </option>
          ))}
        </select>
      </label>
      <label>
        To (customer's number)
        <input value={to} onChange={(e) => setTo(e.target.value)} required inputMode="tel" placeholder="+1 415 555 0111" />
      </label>
      <label>
        First message
        <textarea value={body} onChange={(e) => setBody(e.target.value)} required rows={3} maxLength={1600} />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="composer-bar">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={busy || list.length === 0}>
          {busy ? 'Sending…' : 'Send'}
        </button>
      </div>
    </form>
  );
}
