import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { useLiveEvents, useRefetchOnConnect } from './hooks';
import { PEOPLE, USER_UPDATED, type Availability, type Person, type TeamView } from './queries';

interface People {
  users: Person[];
  teams: TeamView[];
  byId: Map<string, Person>;
  /** Refetch after an admin change (teams, agents). */
  refresh: () => void;
  /** Keeps one user's row current (after setAvailability, before the live event). */
  update: (user: Person) => void;
}

const PeopleContext = createContext<People>({ users: [], teams: [], byId: new Map(), refresh: () => {}, update: () => {} });

/** The tenant's users (with their presence, kept live by userUpdated) and teams, for pickers. */
export function PeopleProvider({ epoch, children }: { epoch: number; children: ReactNode }) {
  const [result, reexecute] = useQuery<{ users: Person[]; teams: TeamView[] }>({ query: PEOPLE });
  const [users, setUsers] = useState<Person[]>([]);

  useEffect(() => {
    if (result.data) setUsers(result.data.users);
  }, [result.data]);

  useRefetchOnConnect(epoch, () => reexecute({ requestPolicy: 'network-only' }));

  const update = (user: Person) => setUsers((list) => (list.some((u) => u.id === user.id) ? list.map((u) => (u.id === user.id ? user : u)) : [...list, user]));
  useLiveEvents<{ userUpdated: Person }>(USER_UPDATED, {}, 'people', ({ userUpdated }) => update(userUpdated));

  const value: People = {
    users,
    teams: result.data?.teams ?? [],
    byId: new Map(users.map((u) => [u.id, u])),
    refresh: () => reexecute({ requestPolicy: 'network-only' }),
    update,
  };
  return <PeopleContext.Provider value={value}>{children}</PeopleContext.Provider>;
}

export function usePeople(): People {
  return useContext(PeopleContext);
}

export const AVAILABILITY_LABEL: Record<Availability, string> = { ONLINE: 'Online', AWAY: 'Away', OFFLINE: 'Offline' };

/** A coloured dot and the word (the colour is never the only cue). */
export function Presence({ availability }: { availability: Availability }) {
  return (
    <span className={`presence presence-${availability.toLowerCase()}`} data-testid="presence">
      <span aria-hidden="true">●</span> {AVAILABILITY_LABEL[availability]}
    </span>
  );
}
