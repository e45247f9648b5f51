/** Where and on what the run happened, for results.md. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { ROOT } from './procs.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  os: string;
  date: string;
  commit: string;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** `git rev-parse HEAD`, plus -dirty when the working tree differs from it (read-only git commands). */
export function gitCommit(): string {
  const head = git(['rev-parse', 'HEAD']);
  if (!head) return 'unknown (not a git checkout)';
  const status = git(['status', '--porcelain', '--untracked-files=normal']);
  return status ? `${head}-dirty` : head;
}

export function machineInfo(postgresVersion: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    postgres: postgresVersion,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    commit: gitCommit(),
  };
}
