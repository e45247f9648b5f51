/** The worker side of the harness protocol: `ready`, then one or more `job`s answered by `result`. */
export interface JobMessage<J> {
  type: 'job' | string;
  job?: J;
  [key: string]: unknown;
}

export function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

export function fatal(err: unknown): never {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  send({ type: 'fatal', error: text });
  process.stderr.write(`${text}\n`);
  setTimeout(() => process.exit(1), 200);
  throw err instanceof Error ? err : new Error(text);
}

/** Calls `handle` for each message; answers `result` with its return value (or `fatal`). */
export function serve<M extends JobMessage<unknown>>(handle: (message: M) => Promise<unknown> | unknown): void {
  process.on('message', (raw) => {
    const message = raw as M;
    Promise.resolve()
      .then(() => handle(message))
      .then(
        (result) => {
          if (result !== undefined) send({ type: 'result', result } as Record<string, unknown>);
        },
        (err: unknown) => {
          const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
          send({ type: 'fatal', error: text });
        },
      );
  });
  // Keep the process alive for the harness's messages (the orphan guard unrefs the channel).
  process.channel?.ref();
  send({ type: 'ready' });
}
