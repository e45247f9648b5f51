import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface SandboxProcess {
  url: string;
  process: ChildProcess;
  output(): string;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/**
 * A free TCP port on loopback (the restarted server must come back on the same one), taken below
 * the kernel's ephemeral range: a port from that range, freed here and bound by the child seconds
 * later, was once taken meanwhile by one of the test run's many outgoing connections (EADDRINUSE).
 * Below it, only another explicit bind can take it.
 */
export async function freePort(): Promise<number> {
  const firstEphemeral = ephemeralRangeStart();
  const low = Math.max(1024, firstEphemeral - 12_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (firstEphemeral - low));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found in ${low}-${firstEphemeral - 1}`);
}

function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 2048) return first;
  } catch {
    // Not Linux: the IANA dynamic range's start.
  }
  return 49_152;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * `npm run sandbox` as its own process (node --import tsx src/main.ts --sandbox): ready once it
 * printed its welcome (after the first start's seed).
 */
export async function startSandboxProcess(env: Record<string, string>, startTimeoutMs = 90_000): Promise<SandboxProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--sandbox'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`sandbox did not start in ${startTimeoutMs} ms:\n${out}`)), startTimeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('Customer phone:') && out.includes('Script a customer text')) {
        clearTimeout(timer);
        res();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`sandbox exited with ${code}:\n${out}`));
    });
  });
  const url = `http://127.0.0.1:${env.PORT}`;
  return {
    url,
    process: child,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
