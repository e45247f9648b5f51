import { useEffect, useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import type { Session } from './auth';
import { formatPhone } from './hooks';
import { AVAILABILITY_LABEL, usePeople } from './people';
import { SET_LABELS, TRANSFER, UPDATE_CONTACT, type ConversationView } from './queries';

interface Props {
  conversation: ConversationView;
  session: Session;
  onChanged: (c: ConversationView) => void;
  onError: (message: string | null) => void;
}

type Result = { error?: { graphQLErrors: { message: string }[]; message: string } };
const messageOf = (r: Result) => r.error!.graphQLErrors[0]?.message ?? r.error!.message;

/** The side panel of a thread: the contact, labels, and who and which team has the conversation. */
export function ConversationDetails({ conversation, session, onChanged, onError }: Props) {
  return (
    <aside className="details" aria-label="Conversation details" data-testid="details">
      <ContactPanel conversation={conversation} onChanged={onChanged} onError={onError} />
      <LabelsPanel conversation={conversation} onChanged={onChanged} onError={onError} />
      <TransferPanel conversation={conversation} session={session} onChanged={onChanged} onError={onError} />
    </aside>
  );
}

function ContactPanel({ conversation, onChanged, onError }: Omit<Props, 'session'>) {
  const contact = conversation.contact;
  const [name, setName] = useState(contact.name ?? '');
  const [, update] = useMutation<{ updateContact: { id: string; name: string | null; blocked: boolean; optedOut: boolean } }>(UPDATE_CONTACT);
  const [saved, setSaved] = useState(false);
  const id = useId();
  useEffect(() => setName(contact.name ?? ''), [contact.name]);

  async function save(input: { name?: string | null; blocked?: boolean }) {
    const r = await update({ id: contact.id, input });
    if (r.error) return onError(messageOf(r));
    onError(null);
    if (r.data) onChanged({ ...conversation, contact: { ...contact, ...r.data.updateContact } });
    if (input.name !== undefined) setSaved(true);
  }

  return (
    <section className="card" aria-labelledby={`${id}-contact`}>
      <h3 id={`${id}-contact`}>Contact</h3>
      <p className="muted">{formatPhone(contact.phoneNumber)}</p>
      {contact.optedOut && <p className="status status-optout">Opted out (texted STOP)</p>}
      <form
        className="inline-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void save({ name: name.trim() || null });
        }}
      >
        <label>
          Contact name
          <input
            value={name}
            maxLength={200}
            onChange={(e) => {
              setName(e.target.value);
              setSaved(false);
            }}
          />
        </label>
        <button type="submit">Save name</button>
      </form>
      {saved && (
        <p role="status" className="ok">
          Name saved.
        </p>
      )}
      <button
        type="button"
        className="danger"
        onClick={() => {
          const blocking = !contact.blocked;
          if (blocking && !confirm('Block this contact? Their open conversations are resolved and their texts open nothing.')) return;
          void save({ blocked: blocking });
        }}
      >
        {contact.blocked ? 'Unblock contact' : 'Block contact'}
      </button>
    </section>
  );
}

function LabelsPanel({ conversation, onChanged, onError }: Omit<Props, 'session'>) {
  const [, setLabels] = useMutation<{ setConversationLabels: ConversationView }>(SET_LABELS);
  const [draft, setDraft] = useState('');
  const id = useId();

  async function apply(labels: string[]) {
    const r = await setLabels({ id: conversation.id, labels });
    if (r.error) return onError(messageOf(r));
    onError(null);
    if (r.data) onChanged(r.data.setConversationLabels);
  }

  return (
    <section className="card" aria-labelledby={`${id}-labels`}>
      <h3 id={`${id}-labels`}>Labels</h3>
      {conversation.labels.length === 0 ? (
        <p className="muted">No labels.</p>
      ) : (
        <ul className="labels" data-testid="labels">
          {conversation.labels.map((l) => (
            <li key={l} className="label-chip">
              {l}
              <button type="button" className="link" aria-label={`Remove label ${l}`} onClick={() => void apply(conversation.labels.filter((x) => x !== l))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const label = draft.trim();
          if (!label) return;
          setDraft('');
          if (!conversation.labels.some((l) => l.toLowerCase() === label.toLowerCase())) void apply([...conversation.labels, label]);
        }}
      >
        <label>
          New label
          <input value={draft} maxLength={50} onChange={(e) => setDraft(e.target.value)} />
        </label>
        <button type="submit">Add label</button>
      </form>
    </section>
  );
}

function TransferPanel({ conversation, session, onChanged, onError }: Props) {
  const people = usePeople();
  const [, transfer] = useMutation<{ transferConversation: ConversationView }>(TRANSFER);
  const [teamId, setTeamId] = useState(conversation.team?.id ?? '');
  const [assigneeId, setAssigneeId] = useState(conversation.assignee?.id ?? '');
  const id = useId();
  useEffect(() => setTeamId(conversation.team?.id ?? ''), [conversation.team?.id]);
  useEffect(() => setAssigneeId(conversation.assignee?.id ?? ''), [conversation.assignee?.id]);
  const team = people.teams.find((t) => t.id === teamId);
  const candidates = people.users
    .filter((u) => u.active)
    .sort((a, b) => (a.availability === b.availability ? a.name.localeCompare(b.name) : a.availability === 'ONLINE' ? -1 : b.availability === 'ONLINE' ? 1 : 0));
  // Unassigning alone is the header's "Unassign".
  const changed =
    (teamId !== '' && teamId !== (conversation.team?.id ?? '')) || (assigneeId !== '' && assigneeId !== (conversation.assignee?.id ?? ''));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const teamChanged = teamId !== (conversation.team?.id ?? '');
    const r = await transfer({
      id: conversation.id,
      teamId: teamChanged && teamId ? teamId : null,
      assigneeId: assigneeId && (assigneeId !== (conversation.assignee?.id ?? '') || !teamChanged) ? assigneeId : null,
    });
    if (r.error) return onError(messageOf(r));
    onError(null);
    if (r.data) onChanged(r.data.transferConversation);
  }

  return (
    <section className="card" aria-labelledby={`${id}-transfer`}>
      <h3 id={`${id}-transfer`}>Assignment</h3>
      <p className="muted" data-testid="assignment">
        Team: {conversation.team?.name ?? 'none'} · {conversation.assignee ? `with ${conversation.assignee.id === session.userId ? 'you' : conversation.assignee.name}` : 'unassigned'}
      </p>
      <form className="inline-form" onSubmit={submit} aria-label="Transfer">
        <label>
          Transfer to team
          <select value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">{conversation.team ? '(keep current team)' : 'No team'}</option>
            {people.teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Assign to
          <select value={assigneeId} onChange={(e) => setAssigneeId(e.target.value)}>
            <option value="">{teamId && teamId !== (conversation.team?.id ?? '') ? "(the team's routing decides)" : 'Nobody'}</option>
            {candidates.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
                {u.id === session.userId ? ' (you)' : ''} · {AVAILABILITY_LABEL[u.availability]}
                {team && !team.members.some((m) => m.id === u.id) ? ' · not in team' : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!changed}>
          Transfer
        </button>
      </form>
    </section>
  );
}
