import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { useRun } from './common';

const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
type Day = (typeof DAYS)[number];
const dayName = (d: Day) => d[0] + d.slice(1).toLowerCase();

export interface HoursView {
  id: string;
  name: string;
  timeZone: string;
  openNow: boolean;
  closedDates: string[];
  weekly: { day: Day; opens: string; closes: string }[];
}

export const HOURS = `{ operatingHours { id name timeZone openNow closedDates weekly { day opens closes } } }`;
const CREATE = `mutation ($input: OperatingHoursInput!) { createOperatingHours(input: $input) { id } }`;
const UPDATE = `mutation ($id: ID!, $input: OperatingHoursInput!) { updateOperatingHours(id: $id, input: $input) { id } }`;
const DELETE = `mutation ($id: ID!) { deleteOperatingHours(id: $id) }`;

const hhmm = (t: string) => t.slice(0, 5);

interface Draft {
  name: string;
  timeZone: string;
  closedDates: string;
  days: Record<Day, { open: boolean; opens: string; closes: string }>;
}

function draftOf(h: HoursView | null): Draft {
  const days = Object.fromEntries(
    DAYS.map((d) => {
      const p = h?.weekly.find((w) => w.day === d);
      const weekday = d !== 'SATURDAY' && d !== 'SUNDAY';
      return [d, p ? { open: true, opens: hhmm(p.opens), closes: hhmm(p.closes) } : { open: !h && weekday, opens: '09:00', closes: '17:00' }];
    }),
  ) as Draft['days'];
  return {
    name: h?.name ?? '',
    timeZone: h?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    closedDates: h?.closedDates.join(', ') ?? '',
    days,
  };
}

/** Operating hours: weekly opening periods (one per day here), closed dates, a time zone. */
export function HoursSection({ onChanged }: { onChanged: () => void }) {
  const [result, refetch] = useQuery<{ operatingHours: HoursView[] }>({ query: HOURS });
  const list = result.data?.operatingHours ?? [];
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [, remove] = useMutation(DELETE);
  const run = useRun();
  const id = useId();
  const current = editing && editing !== 'new' ? (list.find((h) => h.id === editing) ?? null) : null;

  return (
    <section aria-labelledby={`${id}-title`} className="admin-section" id="admin-hours">
      <h3 id={`${id}-title`}>Operating hours</h3>
      <p className="muted">Outside its hours a number is closed: its OUT_OF_HOURS message answers and nobody is assigned.</p>
      {list.length === 0 && !result.fetching && <p className="muted">No schedules: every number is always open.</p>}
      <ul className="card-list">
        {list.map((h) => (
          <li key={h.id} className="card" data-testid="hours">
            <h4>
              {h.name} <span className={`status ${h.openNow ? 'status-open' : ''}`}>{h.openNow ? 'open now' : 'closed now'}</span>
            </h4>
            <p className="muted">{h.timeZone}</p>
            <ul className="hours-list">
              {DAYS.map((d) => {
                const periods = h.weekly.filter((w) => w.day === d);
                return (
                  <li key={d}>
                    {dayName(d)}: {periods.length === 0 ? 'closed' : periods.map((p) => `${hhmm(p.opens)}–${hhmm(p.closes)}`).join(', ')}
                  </li>
                );
              })}
            </ul>
            {h.closedDates.length > 0 && <p className="muted">Closed on {h.closedDates.join(', ')}</p>}
            <div className="actions">
              <button type="button" onClick={() => setEditing(h.id)} aria-label={`Edit ${h.name}`}>
                Edit
              </button>
              <button
                type="button"
                aria-label={`Delete ${h.name}`}
                onClick={async () => {
                  if (await run(remove({ id: h.id }), 'Schedule deleted: its numbers are always open.')) {
                    refetch({ requestPolicy: 'network-only' });
                    onChanged();
                  }
                }}
              >
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>
      {editing ? (
        <HoursForm
          key={editing}
          hours={current}
          onDone={(saved) => {
            setEditing(null);
            if (saved) {
              refetch({ requestPolicy: 'network-only' });
              onChanged();
            }
          }}
        />
      ) : (
        <button type="button" onClick={() => setEditing('new')}>
          New schedule
        </button>
      )}
    </section>
  );
}

function HoursForm({ hours, onDone }: { hours: HoursView | null; onDone: (saved: boolean) => void }) {
  const [draft, setDraft] = useState(() => draftOf(hours));
  const [, create] = useMutation(CREATE);
  const [, update] = useMutation(UPDATE);
  const run = useRun();
  const id = useId();
  const setDay = (d: Day, patch: Partial<Draft['days'][Day]>) => setDraft((x) => ({ ...x, days: { ...x.days, [d]: { ...x.days[d], ...patch } } }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = {
      name: draft.name.trim(),
      timeZone: draft.timeZone.trim(),
      closedDates: draft.closedDates
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
      weekly: DAYS.filter((d) => draft.days[d].open).map((d) => ({ day: d, opens: draft.days[d].opens, closes: draft.days[d].closes })),
    };
    const ok = hours ? await run(update({ id: hours.id, input }), 'Hours saved.') : await run(create({ input }), 'Schedule created.');
    if (ok) onDone(true);
  }

  return (
    <form className="card hours-form" aria-labelledby={`${id}-title`} onSubmit={submit}>
      <h4 id={`${id}-title`}>{hours ? `Edit ${hours.name}` : 'New schedule'}</h4>
      <label>
        Schedule name
        <input value={draft.name} required onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
      </label>
      <label>
        Time zone
        <input value={draft.timeZone} required placeholder="America/Los_Angeles" onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })} />
      </label>
      <table className="hours-table">
        <caption className="visually-hidden">Weekly opening hours</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Open</th>
            <th scope="col">Opens</th>
            <th scope="col">Closes</th>
          </tr>
        </thead>
        <tbody>
          {DAYS.map((d) => (
            <tr key={d}>
              <th scope="row">{dayName(d)}</th>
              <td>
                <input type="checkbox" aria-label={`${dayName(d)} open`} checked={draft.days[d].open} onChange={(e) => setDay(d, { open: e.target.checked })} />
              </td>
              <td>
                <input
                  aria-label={`${dayName(d)} opens`}
                  value={draft.days[d].opens}
                  pattern="\d{2}:\d{2}"
                  disabled={!draft.days[d].open}
                  onChange={(e) => setDay(d, { opens: e.target.value })}
                />
              </td>
              <td>
                <input
                  aria-label={`${dayName(d)} closes`}
                  value={draft.days[d].closes}
                  pattern="\d{2}:\d{2}"
                  disabled={!draft.days[d].open}
                  onChange={(e) => setDay(d, { closes: e.target.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <label>
        Closed dates <span className="hint">(YYYY-MM-DD, separated by commas)</span>
        <input value={draft.closedDates} onChange={(e) => setDraft({ ...draft, closedDates: e.target.value })} />
      </label>
      <div className="actions">
        <button type="submit">{hours ? 'Save hours' : 'Create schedule'}</button>
        <button type="button" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
