import { createContext, useContext, useState } from 'react';

export type GqlResult = { error?: { graphQLErrors: { message: string }[]; message: string } };

export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** One place on the admin page that says what the last action did. */
export const NoticeContext = createContext<(n: Notice | null) => void>(() => {});

/** Runs a mutation; says what happened; true when it went through. */
export function useRun() {
  const notify = useContext(NoticeContext);
  return async (action: Promise<GqlResult>, ok: string): Promise<boolean> => {
    const r = await action;
    if (r.error) {
      notify({ kind: 'error', text: r.error.graphQLErrors[0]?.message ?? r.error.message });
      return false;
    }
    notify({ kind: 'ok', text: ok });
    return true;
  };
}

export function useForm<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name] as string,
    onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
  });
  return { values, setValues, bind, reset: () => setValues(initial) };
}
