import { spawn, type ChildProcess } from 'node:child_process';
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

/** A free TCP port on loopback (the restarted server must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
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
