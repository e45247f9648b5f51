import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { formatPhone, formatTime, useLiveEvents, useRefetchOnConnect } from '../hooks';
import type { QuickReplyView } from '../queries';
import { useForm, useRun } from './common';

const QUICK_REPLIES = `{ quickReplies { id title body } }`;
const CREATE_QR = `mutation ($input: CreateQuickReplyInput!) { createQuickReply(input: $input) { id } }`;
const DELETE_QR = `mutation ($id: ID!) { deleteQuickReply(id: $id) }`;

/** Saved replies agents insert from the composer; placeholders are filled in per conversation. */
export function QuickRepliesSection() {
  const [result, refetch] = useQuery<{ quickReplies: QuickReplyView[] }>({ query: QUICK_REPLIES });
  const [, create] = useMutation(CREATE_QR);
  const [, remove] = useMutation(DELETE_QR);
  const run = useRun();
  const form = useForm({ title: '', body: '' });
  const id = useId();
  const list = result.data?.quickReplies ?? [];
  return (
    <section aria-labelledby={`${id}-title`} className="admin-section" id="admin-quick-replies">
      <h3 id={`${id}-title`}>Quick replies</h3>
      <ul className="card-list">
        {list.map((q) => (
          <li key={q.id} className="card" data-testid="quick-reply">
            <h4>{q.title}</h4>
            <p className="pre">{q.body}</p>
            <button
              type="button"
              aria-label={`Delete quick reply ${q.title}`}
              onClick={async () => {
                if (await run(remove({ id: q.id }), `Quick reply ${q.title} deleted.`)) refetch({ requestPolicy: 'network-only' });
              }}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form
        className="card"
        aria-label="New quick reply"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run(create({ input: { title: form.values.title.trim(), body: form.values.body } }), 'Quick reply added.')) {
            form.reset();
            refetch({ requestPolicy: 'network-only' });
          }
        }}
      >
        <h4>New quick reply</h4>
        <label>
          Title
          <input {...form.bind('title')} required maxLength={100} />
        </label>
        <label>
          Text <span className="hint">{'({{contact.name}}, {{agent.name}} and {{tenant.name}} are filled in)'}</span>
          <textarea {...form.bind('body')} required rows={3} maxLength={1600} />
        </label>
        <button type="submit">Add quick reply</button>
      </form>
    </section>
  );
}

interface CampaignView {
  id: string;
  name: string;
  body: string;
  status: 'DRAFT' | 'SCHEDULED' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  phoneNumber: { e164: string; description: string | null };
  stats: { recipients: number; queued: number; sent: number; delivered: number; failed: number; skipped: number; replied: number };
}

const CAMPAIGN_FIELDS = `id name body status createdAt startedAt completedAt phoneNumber { e164 description }
  stats { recipients queued sent delivered failed skipped replied }`;
const CAMPAIGNS = `{ campaigns(first: 50) { edges { node { ${CAMPAIGN_FIELDS} } } } }`;
const CAMPAIGN_UPDATED = `subscription { campaignUpdated { ${CAMPAIGN_FIELDS} } }`;
const CREATE_CAMPAIGN = `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { ${CAMPAIGN_FIELDS} } }`;
const ACT = {
  start: `mutation ($id: ID!) { startCampaign(id: $id) { ${CAMPAIGN_FIELDS} } }`,
  pause: `mutation ($id: ID!) { pauseCampaign(id: $id) { ${CAMPAIGN_FIELDS} } }`,
  cancel: `mutation ($id: ID!) { cancelCampaign(id: $id) { ${CAMPAIGN_FIELDS} } }`,
};

/** "+1 415 555 0111, Ana" per line: number, then an optional name. */
function parseRecipients(text: string) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [phoneNumber, ...rest] = line.split(/[,;\t]/);
      const name = rest.join(',').trim();
      return { phoneNumber: phoneNumber!.trim(), ...(name ? { name } : {}) };
    });
}

/** Campaigns: create a draft with recipients, start it, watch its progress live. */
export function CampaignsSection({ epoch, numbers }: { epoch: number; numbers: { id: string; e164: string; description: string | null }[] }) {
  const [result, refetch] = useQuery<{ campaigns: { edges: { node: CampaignView }[] } }>({ query: CAMPAIGNS });
  const [items, setItems] = useState<CampaignView[]>([]);
  const [, create] = useMutation<{ createCampaign: CampaignView }>(CREATE_CAMPAIGN);
  const [, start] = useMutation(ACT.start);
  const [, pause] = useMutation(ACT.pause);
  const [, cancel] = useMutation(ACT.cancel);
  const run = useRun();
  const form = useForm({ name: '', phoneNumberId: '', body: '', recipients: '' });
  const id = useId();

  useEffect(() => {
    if (result.data) setItems(result.data.campaigns.edges.map((e) => e.node));
  }, [result.data]);
  useRefetchOnConnect(epoch, () => refetch({ requestPolicy: 'network-only' }));
  // campaignUpdated comes as recipients are handed over and at completion, not with each delivery
  // receipt: while texts of a running or just-finished campaign await their receipts, ask again.
  const awaitingReceipts = items.some(
    (c) => c.status === 'RUNNING' || (c.stats.sent > 0 && c.completedAt !== null && Date.now() - Date.parse(c.completedAt) < 3_600_000),
  );
  useEffect(() => {
    if (!awaitingReceipts) return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), 3_000);
    return () => clearInterval(timer);
  }, [awaitingReceipts, refetch]);
  const upsert = (c: CampaignView) => setItems((list) => (list.some((x) => x.id === c.id) ? list.map((x) => (x.id === c.id ? c : x)) : [c, ...list]));
  useLiveEvents<{ campaignUpdated: CampaignView }>(CAMPAIGN_UPDATED, {}, 'campaigns', ({ campaignUpdated }) => upsert(campaignUpdated));

  async function act(mutation: typeof start, c: CampaignView, verb: string) {
    const r = await mutation({ id: c.id });
    if (await run(Promise.resolve(r), `Campaign ${c.name} ${verb}.`)) {
      const updated = r.data && (Object.values(r.data)[0] as CampaignView);
      if (updated) upsert(updated);
    }
  }

  return (
    <section aria-labelledby={`${id}-title`} className="admin-section" id="admin-campaigns">
      <h3 id={`${id}-title`}>Campaigns</h3>
      {items.length === 0 && !result.fetching && <p className="muted">No campaigns yet.</p>}
      <ul className="card-list">
        {items.map((c) => {
          const done = c.stats.delivered + c.stats.failed + c.stats.skipped;
          const pct = c.stats.recipients > 0 ? Math.round((100 * (done + c.stats.sent)) / c.stats.recipients) : 0;
          return (
            <li key={c.id} className="card" data-testid="campaign" aria-label={`Campaign ${c.name}`}>
              <h4>
                {c.name} <span className={`status status-${c.status.toLowerCase()}`}>{c.status.toLowerCase()}</span>
              </h4>
              <p className="muted">
                from {c.phoneNumber.description ?? formatPhone(c.phoneNumber.e164)} · created {formatTime(c.createdAt)}
              </p>
              <p className="pre">{c.body}</p>
              <progress max={c.stats.recipients || 1} value={done + c.stats.sent} aria-label={`Progress of ${c.name}`}>
                {pct}%
              </progress>
              <p className="campaign-stats" data-testid="campaign-stats">
                {c.stats.recipients} recipients · {c.stats.queued} queued · {c.stats.sent} sent · {c.stats.delivered} delivered · {c.stats.failed} failed ·{' '}
                {c.stats.skipped} skipped · {c.stats.replied} replied
              </p>
              <div className="actions">
                {(c.status === 'DRAFT' || c.status === 'SCHEDULED' || c.status === 'PAUSED') && (
                  <button type="button" aria-label={`Start ${c.name}`} onClick={() => void act(start, c, 'started')}>
                    Start
                  </button>
                )}
                {c.status === 'RUNNING' && (
                  <button type="button" aria-label={`Pause ${c.name}`} onClick={() => void act(pause, c, 'paused')}>
                    Pause
                  </button>
                )}
                {c.status !== 'COMPLETED' && c.status !== 'CANCELLED' && (
                  <button type="button" aria-label={`Cancel ${c.name}`} onClick={() => void act(cancel, c, 'cancelled')}>
                    Cancel
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <form
        className="card"
        aria-label="New campaign"
        onSubmit={async (e) => {
          e.preventDefault();
          const r = await create({
            input: {
              name: form.values.name.trim(),
              phoneNumberId: form.values.phoneNumberId || numbers[0]?.id,
              body: form.values.body,
              recipients: parseRecipients(form.values.recipients),
            },
          });
          if (await run(Promise.resolve(r), 'Campaign created as a draft: start it when ready.')) {
            form.reset();
            if (r.data) upsert(r.data.createCampaign);
          }
        }}
      >
        <h4>New campaign</h4>
        <label>
          Campaign name
          <input {...form.bind('name')} required />
        </label>
        <label>
          From number
          <select {...form.bind('phoneNumberId')}>
            {numbers.map((n) => (
              <option key={n.id} value={n.id}>
                {formatPhone(n.e164)} {n.description ? `· ${n.description}` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Campaign text <span className="hint">{'({{contact.name}} is filled in per recipient)'}</span>
          <textarea {...form.bind('body')} required rows={3} maxLength={1600} />
        </label>
        <label>
          Recipients <span className="hint">(one per line: number, then a name if you like)</span>
          <textarea {...form.bind('recipients')} required rows={4} placeholder={'+1 415 555 0111, Ana\n+1 415 555 0122'} />
        </label>
        <button type="submit" disabled={numbers.length === 0}>
          Create campaign
        </button>
      </form>
    </section>
  );
}
