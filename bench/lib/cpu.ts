/**
 * How busy the machine is, from /proc/stat: the benchmark shares two cores with whatever else
 * runs (test suites, editors), and a busy machine makes every figure worse. The harness records
 * the load before the run and, with --wait-idle, waits (bounded) for the machine to calm down.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './stats.js';

function cpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy over the next `ms` (0..1). */
export async function busyFraction(ms = 2000): Promise<number> {
  try {
    const a = cpuTicks();
    await sleep(ms);
    const b = cpuTicks();
    return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  } catch {
    return NaN;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** Waits until the machine is below `threshold` busy (sampled over 2 s), at most maxMs. Returns the last sample. */
export async function waitForIdle(threshold: number, maxMs: number, log: (l: string) => void): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = await busyFraction();
  while (busy > threshold && Date.now() < deadline) {
    log(`machine ${(busy * 100).toFixed(0)}% busy (load ${loadAverage()}); waiting for it to calm down`);
    await sleep(5000);
    busy = await busyFraction();
  }
  return busy;
}

interface ProcTicks {
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime (reaped children included). */
  ticks: number;
}

function readProcs(): Map<number, ProcTicks> {
  const out = new Map<number, ProcTicks>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, 'utf8');
      const close = raw.lastIndexOf(')');
      const comm = raw.slice(raw.indexOf('(') + 1, close);
      const f = raw.slice(close + 2).split(' ');
      // f[0] state, f[1] ppid, ..., f[11] utime, f[12] stime, f[13] cutime, f[14] cstime
      out.set(Number(e), { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface CpuSnapshot {
  at: number;
  system: { busy: number; total: number };
  ours: number;
  postgres: number;
}

/** CPU used so far by this process tree and by Postgres, and the machine's busy ticks. */
export function cpuSnapshot(): CpuSnapshot {
  const procs = readProcs();
  const mine = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) (mine.add(pid), (grew = true));
  }
  let ours = 0;
  let postgres = 0;
  for (const [pid, p] of procs) {
    if (mine.has(pid)) ours += p.ticks;
    else if (p.comm === 'postgres' || p.comm.startsWith('postgres')) postgres += p.ticks;
  }
  return { at: Date.now(), system: cpuTicks(), ours, postgres };
}

/**
 * Between two snapshots: the average number of cores used by processes outside the benchmark
 * and Postgres (other users of the machine). Clock ticks are 1/100 s on Linux.
 */
export function foreignCores(a: CpuSnapshot, b: CpuSnapshot, cores: number): number {
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return 0;
  const systemBusyTicks = ((b.system.busy - a.system.busy) / Math.max(1, b.system.total - a.system.total)) * cores * seconds * 100;
  const known = b.ours - a.ours + (b.postgres - a.postgres);
  return Math.max(0, (systemBusyTicks - known) / 100 / seconds);
}

/** A process's CPU time so far, user and system (kernel: syscalls, loopback TCP, page faults) apart, in ms. */
export function processCpuSplitMs(pid: number): { user: number; system: number } {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** CPU time (user + system) a process has used so far, in ms. */
export function processCpuMs(pid: number): number {
  const { user, system } = processCpuSplitMs(pid);
  return user + system;
}

/** CPU time used by all Postgres processes so far (ms); includes other clients of the same server. */
export function postgresCpuMs(): number {
  let ticks = 0;
  for (const p of readProcs().values()) if (p.comm === 'postgres' || p.comm.startsWith('postgres')) ticks += p.ticks;
  return ticks * 10;
}
