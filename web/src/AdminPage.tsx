import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { formatPhone } from './hooks';

interface AccountView {
  id: string;
  accountSid: string;
  friendlyName: string;
  sandbox: boolean;
  apiBaseUrl: string;
  inboundWebhookUrl: string;
  statusCallbackUrl: string;
  phoneNumbers: { id: string; e164: string; description: string | null; type: string }[];
}

const ACCOUNTS = `{ twilioAccounts { id accountSid friendlyName sandbox apiBaseUrl inboundWebhookUrl statusCallbackUrl
  phoneNumbers { id e164 description type } } }`;
const CONNECT = `mutation ($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { id } }`;
const ADD_NUMBER = `mutation ($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id webhookWarning } }`;
const CREATE_AGENT = `mutation ($input: CreateAgentInput!) { createAgent(input: $input) { id email } }`;

function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <label>
        {label}
        <input readOnly value={value} onFocus={(e) => e.target.select()} />
      </label>
      <button
        type="button"
        aria-label={`Copy ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function useForm<T extends Record<string, string | boolean>>(initial: T) {
  const [values, setValues] = useState(initial);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name] as string,
    onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
  });
  return { values, setValues, bind, reset: () => setValues(initial) };
}

/** Admin pages: connect a Twilio account (webhook URLs to copy), its numbers, and agents. */
export function AdminPage() {
  const [accounts, refetch] = useQuery<{ twilioAccounts: AccountView[] }>({ query: ACCOUNTS });
  const [, connect] = useMutation(CONNECT);
  const [, addNumber] = useMutation(ADD_NUMBER);
  const [, createAgent] = useMutation(CREATE_AGENT);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const account = useForm({ accountSid: '', authToken: '', friendlyName: '', apiBaseUrl: '' });
  const number = useForm({ twilioAccountId: '', phoneNumber: '', description: '' });
  const [configureWebhook, setConfigureWebhook] = useState(true);
  const agent = useForm({ name: '', email: '', password: '', role: 'AGENT' });
  const list = accounts.data?.twilioAccounts ?? [];

  async function submit(event: FormEvent, run: () => Promise<{ error?: { graphQLErrors: { message: string }[]; message: string } }>, ok: string, reset: () => void) {
    event.preventDefault();
    const r = await run();
    if (r.error) setNotice({ kind: 'error', text: r.error.graphQLErrors[0]?.message ?? r.error.message });
    else {
      setNotice({ kind: 'ok', text: ok });
      reset();
      refetch({ requestPolicy: 'network-only' });
    }
  }

  return (
    <div className="admin">
      <h2>Administration</h2>
      {notice && (
        <p role={notice.kind === 'error' ? 'alert' : 'status'} className={notice.kind === 'error' ? 'error' : 'ok'}>
          {notice.text}
        </p>
      )}

      <section aria-labelledby="accounts-title">
        <h3 id="accounts-title">Twilio accounts</h3>
        {accounts.error && <p className="error">{accounts.error.message}</p>}
        {list.length === 0 && !accounts.fetching && <p className="muted">No account connected yet.</p>}
        {list.map((a) => (
          <article key={a.id} className="card" aria-label={a.friendlyName}>
            <h4>
              {a.friendlyName} {a.sandbox && <span className="status status-optout">sandbox simulator</span>}
            </h4>
            <p className="muted">
              {a.accountSid} · {a.apiBaseUrl}
            </p>
            <p className="muted">Paste these into the number's messaging settings in Twilio (HTTP POST):</p>
            <CopyField label="A message comes in (webhook URL)" value={a.inboundWebhookUrl} />
            <CopyField label="Status callback URL" value={a.statusCallbackUrl} />
            <h5>Numbers</h5>
            {a.phoneNumbers.length === 0 ? (
              <p className="muted">No numbers yet.</p>
            ) : (
              <ul>
                {a.phoneNumbers.map((n) => (
                  <li key={n.id}>
                    {formatPhone(n.e164)} {n.description ? `· ${n.description}` : ''} <span className="muted">({n.type.toLowerCase().replace('_', ' ')})</span>
                  </li>
                ))}
              </ul>
            )}
          </article>
        ))}
      </section>

      <div className="admin-forms">
        <form
          className="card"
          aria-labelledby="connect-title"
          onSubmit={(e) =>
            submit(
              e,
              () =>
                connect({
                  input: {
                    accountSid: account.values.accountSid.trim(),
                    authToken: account.values.authToken.trim(),
                    friendlyName: account.values.friendlyName.trim() || null,
                    apiBaseUrl: account.values.apiBaseUrl.trim() || null,
                  },
                }),
              'Twilio account connected.',
              account.reset,
            )
          }
        >
          <h3 id="connect-title">Connect a Twilio account</h3>
          <label>
            Account SID
            <input {...account.bind('accountSid')} required placeholder="AC…" autoComplete="off" />
          </label>
          <label>
            Auth token
            <input {...account.bind('authToken')} required type="password" autoComplete="off" />
          </label>
          <label>
            Name <span className="hint">(optional)</span>
            <input {...account.bind('friendlyName')} />
          </label>
          <label>
            API root <span className="hint">(optional, https://api.twilio.com unless set)</span>
            <input {...account.bind('apiBaseUrl')} type="url" />
          </label>
          <button type="submit">Connect</button>
        </form>

        <form
          className="card"
          aria-labelledby="number-title"
          onSubmit={(e) =>
            submit(
              e,
              () =>
                addNumber({
                  input: {
                    twilioAccountId: number.values.twilioAccountId || list[0]?.id,
                    phoneNumber: number.values.phoneNumber,
                    description: number.values.description.trim() || null,
                    configureTwilioWebhook: configureWebhook,
                  },
                }),
              'Number added.',
              number.reset,
            )
          }
        >
          <h3 id="number-title">Add a number</h3>
          <label>
            Account
            <select {...number.bind('twilioAccountId')}>
              {list.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.friendlyName}
                </option>
              ))}
            </select>
          </label>
          <label>
            Phone number
            <input {...number.bind('phoneNumber')} required inputMode="tel" placeholder="+1 415 555 0100" />
          </label>
          <label>
            Description <span className="hint">(optional)</span>
            <input {...number.bind('description')} />
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={configureWebhook} onChange={(e) => setConfigureWebhook(e.target.checked)} />
            Point the number's webhook at this server through the Twilio API
          </label>
          <button type="submit" disabled={list.length === 0}>
            Add number
          </button>
        </form>

        <form
          className="card"
          aria-labelledby="agent-title"
          onSubmit={(e) => submit(e, () => createAgent({ input: { ...agent.values } }), 'User added: they can sign in now.', agent.reset)}
        >
          <h3 id="agent-title">Add an agent</h3>
          <label>
            Name
            <input {...agent.bind('name')} required />
          </label>
          <label>
            Email
            <input {...agent.bind('email')} required type="email" autoComplete="off" />
          </label>
          <label>
            Password
            <input {...agent.bind('password')} required type="password" minLength={8} autoComplete="new-password" />
          </label>
          <label>
            Role
            <select {...agent.bind('role')}>
              <option value="AGENT">Agent</option>
              <option value="ADMIN">Admin</option>
            </select>
          </label>
          <button type="submit">Add user</button>
        </form>
      </div>
    </div>
  );
}
