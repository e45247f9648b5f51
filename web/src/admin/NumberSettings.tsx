import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { formatPhone } from '../hooks';
import { usePeople } from '../people';
import { useRun } from './common';

export interface NumberView {
  id: string;
  e164: string;
  description: string | null;
  type: string;
  team: { id: string; name: string } | null;
  operatingHours: { id: string; name: string } | null;
  automatedMessages: { id: string; trigger: Trigger; body: string; enabled: boolean }[];
}

type Trigger = 'GREETING' | 'OUT_OF_HOURS' | 'ALL_AGENTS_BUSY' | 'RESOLVED' | 'CSAT_SURVEY' | 'FAILURE';
const TRIGGERS: { trigger: Trigger; label: string; hint: string }[] = [
  { trigger: 'GREETING', label: 'Greeting', hint: 'the first text of a new conversation' },
  { trigger: 'OUT_OF_HOURS', label: 'Out of hours', hint: 'a text while the number is closed' },
  { trigger: 'ALL_AGENTS_BUSY', label: 'All agents busy', hint: "the conversation waits in its team's queue" },
  { trigger: 'RESOLVED', label: 'Resolved', hint: 'an agent resolved the conversation' },
  { trigger: 'CSAT_SURVEY', label: 'Satisfaction survey', hint: 'after resolving: a reply of 1 to 5 is the rating' },
  { trigger: 'FAILURE', label: 'Failure', hint: 'the text could not be taken in; only {{tenant.name}}' },
];

export const NUMBER_FIELDS = `id e164 description type team { id name } operatingHours { id name } automatedMessages { id trigger body enabled }`;
const UPDATE_NUMBER = `mutation ($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id } }`;
const SET_AUTOMATED = `mutation ($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id } }`;

/** One number: its team, its hours and its automated messages. */
export function NumberSettings({ number: n, hours, onSaved }: { number: NumberView; hours: { id: string; name: string }[]; onSaved: () => void }) {
  const people = usePeople();
  const [teamId, setTeamId] = useState(n.team?.id ?? '');
  const [hoursId, setHoursId] = useState(n.operatingHours?.id ?? '');
  const [, update] = useMutation(UPDATE_NUMBER);
  const run = useRun();
  const name = formatPhone(n.e164);
  const changed = teamId !== (n.team?.id ?? '') || hoursId !== (n.operatingHours?.id ?? '');

  return (
    <li className="number" data-testid="number">
      <p>
        <strong>{name}</strong> {n.description ? `· ${n.description}` : ''}{' '}
        <span className="muted">
          ({n.type.toLowerCase().replace('_', ' ')}) · team: {n.team?.name ?? 'none'} · hours: {n.operatingHours?.name ?? 'always open'}
        </span>
      </p>
      <div className="inline-form">
        <label>
          Team of {name}
          <select value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">No team (every agent sees it)</option>
            {people.teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Hours of {name}
          <select value={hoursId} onChange={(e) => setHoursId(e.target.value)}>
            <option value="">Always open</option>
            {hours.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={!changed}
          onClick={async () => {
            if (await run(update({ id: n.id, input: { teamId: teamId || null, operatingHoursId: hoursId || null } }), `${name} saved.`)) onSaved();
          }}
        >
          Save {name}
        </button>
      </div>
      <details>
        <summary>Automated messages of {name}</summary>
        {TRIGGERS.map((t) => (
          <AutomatedMessageForm key={t.trigger} numberId={n.id} numberName={name} spec={t} current={n.automatedMessages.find((m) => m.trigger === t.trigger) ?? null} onSaved={onSaved} />
        ))}
      </details>
    </li>
  );
}

function AutomatedMessageForm({
  numberId,
  numberName,
  spec,
  current,
  onSaved,
}: {
  numberId: string;
  numberName: string;
  spec: (typeof TRIGGERS)[number];
  current: NumberView['automatedMessages'][number] | null;
  onSaved: () => void;
}) {
  const [body, setBody] = useState(current?.body ?? '');
  const [enabled, setEnabled] = useState(current?.enabled ?? false);
  const [, set] = useMutation(SET_AUTOMATED);
  const run = useRun();
  const id = useId();
  return (
    <form
      className="automated"
      aria-labelledby={`${id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        if (await run(set({ input: { phoneNumberId: numberId, trigger: spec.trigger, body, enabled } }), `${spec.label} message of ${numberName} saved.`)) onSaved();
      }}
    >
      <h5 id={`${id}-title`}>
        {spec.label} <span className="hint">({spec.hint})</span>
      </h5>
      <label>
        <span className="visually-hidden">
          {spec.label} message of {numberName}
        </span>
        <textarea aria-label={`${spec.label} message of ${numberName}`} rows={2} value={body} maxLength={1600} onChange={(e) => setBody(e.target.value)} />
      </label>
      <div className="actions">
        <label className="checkbox">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
        <button type="submit" disabled={body.trim() === ''}>
          Save
        </button>
      </div>
    </form>
  );
}
