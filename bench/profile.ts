/**
 * Summarises a V8 CPU profile (.cpuprofile, from `node --cpu-prof`): where the time went, by
 * self time per function, by package or area, and by inclusive time for our own code (src/).
 * Also summarises a sampled allocation profile (.heapprofile: HeapProfiler.stopSampling, or
 * `node --heap-prof`): the bytes allocated by each function and area over the window.
 *
 *   npx tsx bench/profile.ts bench/profiles/<file>.cpuprofile|.heapprofile [topN]
 *
 * `npm run bench -- --profile` starts the server with --cpu-prof and runs this on the result.
 * The .cpuprofile also opens as a flame graph in Chrome DevTools (Performance tab) or speedscope.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = pathToFileURL(new URL('..', import.meta.url).pathname).href;

function where(frame: CallFrame): string {
  let url = frame.url;
  if (!url) return '';
  if (url.startsWith(ROOT)) url = relative(new URL(ROOT).pathname, new URL(url).pathname);
  url = url.replace(/^.*node_modules\//, 'node_modules/');
  return `${url}:${frame.lineNumber + 1}`;
}

function area(frame: CallFrame): string {
  const name = frame.functionName;
  if (name === '(garbage collector)' || name === '(program)' || name === '(idle)' || name === '(root)') return name;
  const url = frame.url;
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]!.split('/').slice(0, -1).join('/') || '.'}`;
  return url.replace(/^file:\/\//, '');
}

/** The `n` largest entries of `m`, one line each: the formatted figure, then the key. */
function largest(m: Map<string, number>, n: number, figure: (value: number) => string): string[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${figure(v)}  ${k}`);
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  text: string;
}

export function summarizeProfile(file: string, topN = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusiveOurs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'}  ${where(f)}`.trim();

  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000; // µs → ms; the delta after the sample
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    total += dt;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    selfByFn.set(keyOf(f), (selfByFn.get(keyOf(f)) ?? 0) + dt);
    selfByArea.set(area(f), (selfByArea.get(area(f)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!frame.url.includes('/src/')) continue;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveOurs.set(k, (inclusiveOurs.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) => largest(m, n, (v) => `${pct(v)}  ${v.toFixed(0).padStart(7)} ms`);

  const lines = [
    `CPU profile ${file}`,
    `wall ${(total / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}% of one core), idle ${(idle / 1000).toFixed(1)} s; percentages are of busy time`,
    '',
    'Self time by area (package, node: module, src/ folder):',
    ...top(selfByArea, 20),
    '',
    `Top ${topN} functions by self time:`,
    ...top(selfByFn, topN),
    '',
    'Our code (src/) by inclusive time (the function and everything it called):',
    ...top(inclusiveOurs, 25),
  ];
  return { totalMs: total, busyMs: busy, text: lines.join('\n') };
}

interface AllocationNode {
  callFrame: CallFrame;
  selfSize: number;
  children: AllocationNode[];
}

/**
 * Where a window's memory was allocated (V8's sampling heap profiler, objects a scavenge or a full
 * GC collected included): bytes by area, by function (self) and by our functions (inclusive).
 * Allocation is what the young generation's scavenges cost in proportion to (issue 16: GC pauses
 * behind the 10,000-subscription tail).
 */
export function summarizeAllocations(file: string, topN = 20, windowMs?: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocationNode };
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  const inclusiveOurs = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const walk = (node: AllocationNode, ours: ReadonlySet<string>): number => {
    const frame = node.callFrame;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
    total += node.selfSize;
    if (node.selfSize > 0) {
      add(byArea, area(frame), node.selfSize);
      add(byFn, key, node.selfSize);
    }
    const isOurs = frame.url.includes('/src/') && !frame.url.includes('node_modules');
    const below = isOurs && !ours.has(key) ? new Set([...ours, key]) : ours;
    let size = node.selfSize;
    for (const child of node.children) size += walk(child, below);
    if (below !== ours) add(inclusiveOurs, key, size);
    return size;
  };
  walk(profile.head, new Set());
  const mib = (v: number) => `${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${((v / total) * 100).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) => largest(m, n, mib);
  const rate = windowMs ? ` (${(total / 2 ** 20 / (windowMs / 1000)).toFixed(0)} MiB/s)` : '';
  return [
    `Allocations ${file}: ${(total / 2 ** 20).toFixed(0)} MiB sampled${rate}`,
    '',
    'Allocated by area:',
    ...top(byArea, 12),
    '',
    `Top ${topN} functions by bytes allocated:`,
    ...top(byFn, topN),
    '',
    'Our code (src/) by inclusive allocation:',
    ...top(inclusiveOurs, 15),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile|file.heapprofile> [topN]\n');
    process.exit(2);
  }
  const topN = Number(process.argv[3] ?? 30);
  process.stdout.write(`${file.endsWith('.heapprofile') ? summarizeAllocations(file, topN) : summarizeProfile(file, topN).text}\n`);
}
