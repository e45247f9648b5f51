/**
 * Child processes of the benchmark: every one is registered here and killed when the harness
 * exits, fails or is interrupted. Each child also watches its IPC channel and exits when the
 * harness disappears (see workers/orphan-guard.ts), so even a SIGKILLed harness leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const ORPHAN_GUARD = resolve(ROOT, 'bench/workers/orphan-guard.ts');

const live = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];
let exiting = false;

/** Registers async clean-up (dropping the bench database, removing temp folders) run once at the end. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

let shuttingDown: Promise<void> | null = null;

/** True once shutdown has begun: no new child may start. */
export function isShuttingDown(): boolean {
  return shuttingDown !== null;
}

/**
 * Kills every child, then runs the clean-ups (each bounded in time) in reverse registration
 * order. Idempotent: every caller awaits the same run.
 */
export function shutdown(): Promise<void> {
  shuttingDown ??= (async () => {
    killAllSync();
    const fns = cleanups.splice(0).reverse();
    for (const fn of fns) {
      try {
        await Promise.race([Promise.resolve().then(fn), new Promise((r) => setTimeout(r, 15_000).unref())]);
      } catch (err) {
        process.stderr.write(`clean-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    killAllSync();
  })();
  return shuttingDown;
}

/** Set once SIGINT/SIGTERM arrived: the exit code is then 130. */
export function interrupted(): boolean {
  return exiting;
}

export function installExitHandlers(): void {
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (exiting) return;
      exiting = true;
      process.stderr.write(`\n${signal}: stopping the benchmark, killing children, dropping the bench database\n`);
      void shutdown().finally(() => process.exit(130));
    });
  }
}

export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Last lines of output, for error reports. */
  output(): string;
  send(message: ChildMessage): void;
  /** The next IPC message of this type (or an error if the child exits or the time runs out). */
  waitFor<T extends ChildMessage = ChildMessage>(type: string, timeoutMs: number): Promise<T>;
  /** Resolves when a line of stdout or stderr matches. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  args?: string[];
  /** Forward the child's stderr to ours as it comes (servers: warnings and errors only). */
  echoStderr?: boolean;
}

/** Starts `node --import tsx <script>` with an IPC channel. */
export function spawnNode(name: string, script: string, opts: SpawnOptions = {}): Child {
  if (shuttingDown) throw new Error(`not starting ${name}: the benchmark is shutting down`);
  const proc = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', '--import', ORPHAN_GUARD, resolve(ROOT, script), ...(opts.args ?? [])],
    {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    },
  );
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  live.add(proc);

  const tail: string[] = [];
  const lineWaiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  let stdoutBuf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    stdoutBuf += chunk;
    let nl: number;
    while ((nl = stdoutBuf.indexOf('\n')) >= 0) {
      const line = stdoutBuf.slice(0, nl);
      stdoutBuf = stdoutBuf.slice(nl + 1);
      remember(line);
      for (const w of [...lineWaiters]) {
        if (w.pattern.test(line)) {
          lineWaiters.splice(lineWaiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8');
  let stderrBuf = '';
  proc.stderr!.on('data', (chunk: string) => {
    stderrBuf += chunk;
    const end = stderrBuf.lastIndexOf('\n');
    if (end < 0) return;
    const complete = stderrBuf.slice(0, end);
    stderrBuf = stderrBuf.slice(end + 1);
    if (opts.echoStderr) process.stderr.write(`${complete.replace(/^/gm, `[${name}] `)}\n`);
    for (const line of complete.split('\n')) {
      if (!line.trim()) continue;
      remember(line);
      for (const w of [...lineWaiters]) {
        if (w.pattern.test(line)) {
          lineWaiters.splice(lineWaiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });

  const messageWaiters: Array<{ type: string; resolve: (m: ChildMessage) => void }> = [];
  const inbox: ChildMessage[] = [];
  proc.on('message', (raw) => {
    const m = raw as ChildMessage;
    if (m && m.type === 'fatal') process.stderr.write(`[${name}] fatal: ${String(m.error)}\n`);
    const i = messageWaiters.findIndex((w) => w.type === m.type || m.type === 'fatal');
    if (i >= 0) messageWaiters.splice(i, 1)[0]!.resolve(m);
    else inbox.push(m);
  });

  const exited = new Promise<number | null>((resolveExit) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolveExit(code ?? (signal ? 128 : null));
    });
  });

  const output = () => tail.join('\n');

  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    output,
    exited,
    send(message) {
      if (proc.connected) proc.send(message);
    },
    waitFor<T extends ChildMessage>(type: string, timeoutMs: number): Promise<T> {
      const queued = inbox.findIndex((m) => m.type === type || m.type === 'fatal');
      if (queued >= 0) return check(inbox.splice(queued, 1)[0]!) as Promise<T>;
      return new Promise<ChildMessage>((resolveMsg, reject) => {
        const waiter = { type, resolve: resolveMsg };
        messageWaiters.push(waiter);
        const timer = setTimeout(() => {
          messageWaiters.splice(messageWaiters.indexOf(waiter), 1);
          reject(new Error(`${name}: no "${type}" within ${timeoutMs} ms\n${output()}`));
        }, timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) while waiting for "${type}"\n${output()}`));
        });
        const done = waiter.resolve;
        waiter.resolve = (m) => {
          clearTimeout(timer);
          done(m);
        };
      }).then(check) as Promise<T>;

      function check(m: ChildMessage): Promise<ChildMessage> {
        if (m.type === 'fatal') return Promise.reject(new Error(`${name}: ${String(m.error)}`));
        return Promise.resolve(m);
      }
    },
    waitForLine(pattern, timeoutMs) {
      const seen = tail.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolveLine, reject) => {
        const waiter = { pattern, resolve: resolveLine };
        lineWaiters.push(waiter);
        const timer = setTimeout(() => {
          lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
          reject(new Error(`${name}: not ready within ${timeoutMs} ms\n${output()}`));
        }, timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before it was ready\n${output()}`));
        });
        const done = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          done(line);
        };
      });
    },
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return child;
}

export interface PersistentWorker {
  readonly child: Promise<Child>;
  /** Sends one message and waits for its `result` (calls are serialised). */
  call<T>(message: ChildMessage, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

/** A worker process kept for several jobs, started on first use, stopped by stop() or at exit. */
export function persistentWorker(name: string, script: string, opts: SpawnOptions = {}): PersistentWorker {
  let started: Promise<Child> | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const start = () =>
    (started ??= (async () => {
      const child = spawnNode(name, script, opts);
      await child.waitFor('ready', 30_000);
      return child;
    })());
  return {
    get child() {
      return start();
    },
    call<T>(message: ChildMessage, timeoutMs: number): Promise<T> {
      const run = queue.then(async () => {
        const child = await start();
        child.send(message);
        const m = await child.waitFor<{ type: 'result'; result: T }>('result', timeoutMs);
        return m.result;
      });
      queue = run.catch(() => {});
      return run;
    },
    async stop() {
      if (!started) return;
      const child = await started.catch(() => null);
      started = null;
      await child?.stop(3000);
    },
  };
}

/** Runs a worker that answers one job with one `result` message, then stops it. */
export async function runWorker<T>(name: string, script: string, job: unknown, timeoutMs: number, opts: SpawnOptions = {}): Promise<T> {
  const child = spawnNode(name, script, opts);
  try {
    await child.waitFor('ready', 30_000);
    child.send({ type: 'job', job });
    const m = await child.waitFor<{ type: 'result'; result: T }>('result', timeoutMs);
    return m.result;
  } finally {
    await child.stop(3000);
  }
}
