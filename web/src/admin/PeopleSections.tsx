import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { Presence, usePeople } from '../people';
import type { TeamView } from '../queries';
import { useForm, useRun } from './common';

const CREATE_TEAM = `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }`;
const UPDATE_TEAM = `mutation ($id: ID!, $input: UpdateTeamInput!) { updateTeam(id: $id, input: $input) { id } }`;
const CREATE_AGENT = `mutation ($input: CreateAgentInput!) { createAgent(input: $input) { id email } }`;
const UPDATE_USER = `mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id active } }`;

const STRATEGY_LABEL: Record<TeamView['strategy'], string> = {
  ROUND_ROBIN: 'Round robin (next online member)',
  LEAST_BUSY: 'Least busy online member',
  MANUAL: 'Manual (a queue agents take from)',
};

/** Teams: routing strategy, capacity and members. */
export function TeamsSection() {
  const people = usePeople();
  const [, create] = useMutation(CREATE_TEAM);
  const run = useRun();
  const form = useForm({ name: '', strategy: 'ROUND_ROBIN', agentCapacity: '' });
  const [members, setMembers] = useState<string[]>([]);
  const id = useId();
  const active = people.users.filter((u) => u.active);

  return (
    <section aria-labelledby={`${id}-title`} className="admin-section" id="admin-teams">
      <h3 id={`${id}-title`}>Teams</h3>
      {people.teams.length === 0 && <p className="muted">No teams: every agent sees every conversation.</p>}
      <ul className="card-list">
        {people.teams.map((t) => (
          <TeamCard key={t.id} team={t} />
        ))}
      </ul>
      <form
        className="card"
        aria-label="New team"
        onSubmit={async (e) => {
          e.preventDefault();
          const input = {
            name: form.values.name.trim(),
            strategy: form.values.strategy,
            agentCapacity: form.values.agentCapacity ? Number(form.values.agentCapacity) : null,
            memberIds: members,
          };
          if (await run(create({ input }), `Team ${input.name} created.`)) {
            form.reset();
            setMembers([]);
            people.refresh();
          }
        }}
      >
        <h4>New team</h4>
        <label>
          Team name
          <input {...form.bind('name')} required maxLength={100} />
        </label>
        <label>
          Routing
          <select {...form.bind('strategy')}>
            {Object.entries(STRATEGY_LABEL).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Capacity per agent <span className="hint">(open conversations; empty: no limit)</span>
          <input {...form.bind('agentCapacity')} type="number" min={1} max={10000} />
        </label>
        <fieldset>
          <legend>Members</legend>
          {active.map((u) => (
            <label key={u.id} className="checkbox">
              <input
                type="checkbox"
                checked={members.includes(u.id)}
                onChange={(e) => setMembers((m) => (e.target.checked ? [...m, u.id] : m.filter((x) => x !== u.id)))}
              />
              {u.name}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create team</button>
      </form>
    </section>
  );
}

function TeamCard({ team }: { team: TeamView }) {
  const people = usePeople();
  const [, update] = useMutation(UPDATE_TEAM);
  const run = useRun();
  const [members, setMembers] = useState(() => team.members.map((m) => m.id));
  const changed = members.slice().sort().join() !== team.members.map((m) => m.id).sort().join();
  return (
    <li className="card" data-testid="team">
      <h4>{team.name}</h4>
      <p className="muted">
        {STRATEGY_LABEL[team.strategy]}
        {team.agentCapacity ? ` · at most ${team.agentCapacity} open per agent` : ''}
      </p>
      <fieldset>
        <legend>Members of {team.name}</legend>
        {people.users
          .filter((u) => u.active)
          .map((u) => (
            <label key={u.id} className="checkbox">
              <input
                type="checkbox"
                checked={members.includes(u.id)}
                onChange={(e) => setMembers((m) => (e.target.checked ? [...m, u.id] : m.filter((x) => x !== u.id)))}
              />
              {u.name} <Presence availability={u.availability} />
            </label>
          ))}
      </fieldset>
      <button
        type="button"
        disabled={!changed}
        onClick={async () => {
          if (await run(update({ id: team.id, input: { memberIds: members } }), `Members of ${team.name} saved.`)) people.refresh();
        }}
      >
        Save members
      </button>
    </li>
  );
}

/** Users: who they are, their presence; add agents, deactivate and reactivate them. */
export function UsersSection({ myId }: { myId: string }) {
  const people = usePeople();
  const [, createAgent] = useMutation(CREATE_AGENT);
  const [, updateUser] = useMutation(UPDATE_USER);
  const run = useRun();
  const agent = useForm({ name: '', email: '', password: '', role: 'AGENT' });
  const id = useId();
  return (
    <section aria-labelledby={`${id}-title`} className="admin-section" id="admin-users">
      <h3 id={`${id}-title`}>Agents and admins</h3>
      <table className="users-table">
        <caption className="visually-hidden">Users</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Presence</th>
            <th scope="col">Account</th>
          </tr>
        </thead>
        <tbody>
          {people.users.map((u) => (
            <tr key={u.id} data-testid="user-row">
              <th scope="row">{u.name}</th>
              <td>{u.role.toLowerCase()}</td>
              <td>{u.active ? <Presence availability={u.availability} /> : '—'}</td>
              <td>
                {u.id === myId ? (
                  'you'
                ) : (
                  <button
                    type="button"
                    aria-label={`${u.active ? 'Deactivate' : 'Reactivate'} ${u.name}`}
                    onClick={async () => {
                      if (u.active && !confirm(`Deactivate ${u.name}? They are signed out and can no longer sign in.`)) return;
                      if (await run(updateUser({ id: u.id, input: { active: !u.active } }), `${u.name} ${u.active ? 'deactivated' : 'reactivated'}.`)) people.refresh();
                    }}
                  >
                    {u.active ? 'Deactivate' : 'Reactivate'}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="card"
        aria-labelledby="agent-title"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run(createAgent({ input: { ...agent.values } }), 'User added: they can sign in now.')) {
            agent.reset();
            people.refresh();
          }
        }}
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
    </section>
  );
}
