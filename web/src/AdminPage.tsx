import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import type { Session } from './auth';
import { NoticeContext, useForm, type Notice } from './admin/common';
import { CampaignsSection, QuickRepliesSection } from './admin/ContentSections';
import { HOURS, HoursSection, type HoursView } from './admin/HoursSection';
import { NUMBER_FIELDS, NumberSettings, type NumberView } from './admin/NumberSettings';
import { TeamsSection, UsersSection } from './admin/PeopleSections';

interface AccountView {
  id: string;
  accountSid: string;
  friendlyName: string;
  sandbox: boolean;
  apiBaseUrl: string;
  inboundWebhookUrl: string;
  statusCallbackUrl: string;
  phoneNumbers: NumberView[];
}

const ACCOUNTS = `{ twilioAccounts { id accountSid friendlyName sandbox apiBaseUrl inboundWebhookUrl statusCallbackUrl
  phoneNumbers { ${NUMBER_FIELDS} } } }`;
const CONNECT = `mutation ($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { id } }`;
const ADD_NUMBER = `mutation ($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id webhookWarning } }`;

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

/** Admin pages: connect a Twilio account (webhook URLs to copy), its numbers, and agents. */
const SECTIONS = [
  ['admin-accounts', 'Twilio and numbers'],
  ['admin-hours', 'Hours'],
  ['admin-teams', 'Teams'],
  ['admin-users', 'Agents'],
  ['admin-quick-replies', 'Quick replies'],
  ['admin-campaigns', 'Campaigns'],
] as const;

export function AdminPage({ session, epoch }: { session: Session; epoch: number }) {
  const [accounts, refetch] = useQuery<{ twilioAccounts: AccountView[] }>({ query: ACCOUNTS });
  const [hours, refetchHours] = useQuery<{ operatingHours: HoursView[] }>({ query: HOURS });
  const [, connect] = useMutation(CONNECT);
  const [, addNumber] = useMutation(ADD_NUMBER);
  const [notice, setNotice] = useState<Notice | null>(null);
  const account = useForm({ accountSid: '', authToken: '', friendlyName: '', apiBaseUrl: '' });
  const number = useForm({ twilioAccountId: '', phoneNumber: '', description: '' });
  const [configureWebhook, setConfigureWebhook] = useState(true);
  const list = accounts.data?.twilioAccounts ?? [];
  const numbers = list.flatMap((a) => a.phoneNumbers);
  const reloadAccounts = () => refetch({ requestPolicy: 'network-only' });

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
    <NoticeContext.Provider value={setNotice}>
    <div className="admin">
      <h2>Administration</h2>
      <nav aria-label="Admin sections" className="admin-toc">
        {SECTIONS.map(([anchor, title]) => (
          <a key={anchor} href={`#${anchor}`}>
            {title}
          </a>
        ))}
      </nav>
      {notice && (
        <p role={notice.kind === 'error' ? 'alert' : 'status'} className={`notice ${notice.kind === 'error' ? 'error' : 'ok'}`} data-testid="admin-notice">
          {notice.text}
        </p>
      )}

      <section aria-labelledby="accounts-title" id="admin-accounts">
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
              <ul className="numbers">
                {a.phoneNumbers.map((n) => (
                  <NumberSettings
                    key={`${n.id}-${n.team?.id}-${n.operatingHours?.id}-${n.automatedMessages.map((m) => `${m.trigger}${m.enabled}${m.body.length}`).join()}`}
                    number={n}
                    hours={hours.data?.operatingHours ?? []}
                    onSaved={reloadAccounts}
                  />
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


      </div>
      <HoursSection onChanged={() => refetchHours({ requestPolicy: 'network-only' })} />
      <TeamsSection />
      <UsersSection myId={session.userId} />
      <QuickRepliesSection />
      <CampaignsSection epoch={epoch} numbers={numbers} />
    </div>
    </NoticeContext.Provider>
  );
}
