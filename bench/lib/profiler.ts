/**
 * CPU profiles of the server under test over exactly the measured windows: with --profile the
 * server runs with `--inspect=127.0.0.1:0` and the harness drives V8's profiler through the
 * inspector protocol (Profiler.start / Profiler.stop) around each scored run, writing one
 * .cpuprofile per window to bench/profiles/ and a summary (bench/profile.ts) beside it. V8's
 * sampling heap profiler runs over the same window (.heapprofile; its summary follows the CPU one).
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { summarizeAllocations, summarizeProfile } from '../profile.js';

export interface WindowProfiler {
  /** Profiles the server while fn runs (a no-op without --profile). */
  around<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Summaries written so far: name → text. */
  readonly summaries: Map<string, string>;
  /** Profiles another server from now on (the memory scenario restarts it); a no-op without --profile. */
  retarget(inspectorUrl: string): Promise<void>;
  close(): Promise<void>;
}

export const noProfiler: WindowProfiler = {
  around: (_name, fn) => fn(),
  summaries: new Map(),
  retarget: async () => {},
  close: async () => {},
};

/** A minimal client of the V8 inspector protocol (Chrome DevTools Protocol) over its WebSocket. */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, (params: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) {
        if (msg.method) this.listeners.get(msg.method)?.(msg.params);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
      socket.once('open', () => resolve(new Inspector(socket)));
      socket.once('error', reject);
    });
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Inspector notifications of one method (one listener per method). */
  on(method: string, listener: ((params: unknown) => void) | null): void {
    if (listener) this.listeners.set(method, listener);
    else this.listeners.delete(method);
  }

  /** Writes a V8 heap snapshot of the inspected process to `file` (loadable in Chrome DevTools). */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.on('HeapProfiler.addHeapSnapshotChunk', (params) => out.write((params as { chunk: string }).chunk));
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.on('HeapProfiler.addHeapSnapshotChunk', null);
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** Connects to a server started with --inspect; `inspectorUrl` is the ws:// URL it printed. */
export async function connectProfiler(inspectorUrl: string, dir: string, label: string): Promise<WindowProfiler> {
  const attach = async (url: string) => {
    const connected = await Inspector.connect(url);
    await connected.call('Profiler.enable');
    await connected.call('Profiler.setSamplingInterval', { interval: 200 });
    await connected.call('HeapProfiler.enable');
    return connected;
  };
  let inspector = await attach(inspectorUrl);
  const summaries = new Map<string, string>();
  return {
    summaries,
    async around(name, fn) {
      await inspector.call('Profiler.start');
      // One sample per 32 KiB allocated, counting objects that GC already collected: a window's
      // allocation, not what is left of it.
      await inspector.call('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      const started = performance.now();
      try {
        return await fn();
      } finally {
        const windowMs = performance.now() - started;
        const heap = await inspector.call<{ profile: unknown }>('HeapProfiler.stopSampling');
        const heapFile = join(dir, `${label}-${name}.heapprofile`);
        writeFileSync(heapFile, JSON.stringify(heap.profile));
        const { profile } = await inspector.call<{ profile: unknown }>('Profiler.stop');
        const file = join(dir, `${label}-${name}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        const summary = `${summarizeProfile(file, 30).text}\n\n${summarizeAllocations(heapFile, 20, windowMs)}`;
        writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), `${summary}\n`);
        summaries.set(name, summary);
      }
    },
    async retarget(url) {
      inspector.close();
      inspector = await attach(url);
    },
    async close() {
      await inspector.call('HeapProfiler.disable').catch(() => {});
      await inspector.call('Profiler.disable').catch(() => {});
      inspector.close();
    },
  };
}
