/**
 * Summarises a V8 CPU profile (.cpuprofile, from `node --cpu-prof`): where the time went, by
 * self time per function, by package or area, and by inclusive time for our own code (src/).
 *
 *   npx tsx bench/profile.ts bench/profiles/<file>.cpuprofile [topN]
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
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${v.toFixed(0).padStart(7)} ms  ${k}`);

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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [topN]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(file, Number(process.argv[3] ?? 30)).text}\n`);
}
