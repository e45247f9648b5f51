/**
 * An open-loop webhook sender at a fixed rate, evenly spaced (message k is due at t0 + k/rate,
 * whatever the answers to earlier ones), over keep-alive connections. Used where each message
 * must carry its send time (live delivery), so each is built and signed at send time, which
 * costs a few microseconds (one HMAC-SHA1). Round-robin over the targets (tenants).
 */
import http from 'node:http';
import { inboundSmsParams } from '../../src/sandbox/twilio-simulator.js';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import { epochMs, summarize, type LatencySummary } from '../lib/stats.js';

export interface WebhookTarget {
  tenant: number;
  /** The exact URL the account advertises (what Twilio signs). */
  url: string;
  authToken: string;
  accountSid: string;
  /** Our number (To). */
  to: string;
}

export interface PacedJob {
  /** Where to connect (http://127.0.0.1:PORT); the path comes from each target's url. */
  origin: string;
  targets: WebhookTarget[];
  rate: number;
  count: number;
  phase: string;
  sendersPerTenant: number;
  maxInFlight: number;
}

export interface PacedResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  elapsedMs: number;
  achievedRate: number;
  /** How late the sender got behind its schedule at worst (ms). */
  maxLagMs: number;
  httpLatencyMs: LatencySummary;
  sentByTenant: Record<number, number>;
}

export function runPaced(job: PacedJob): Promise<PacedResult> {
  const origin = new URL(job.origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.maxInFlight });
  const latencies: number[] = [];
  const sentByTenant: Record<number, number> = {};
  let sent = 0;
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let inFlight = 0;
  let maxLagMs = 0;
  const t0 = performance.now();

  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const elapsedMs = performance.now() - t0;
      resolve({ sent, ok, non2xx, errors, elapsedMs, achievedRate: (done * 1000) / elapsedMs, maxLagMs, httpLatencyMs: summarize(latencies), sentByTenant });
    };

    const sendOne = (k: number) => {
      const target = job.targets[k % job.targets.length]!;
      const from = `+1646${String(3_000_000 + (k % job.sendersPerTenant)).padStart(7, '0')}`;
      const body = `bench|${job.phase}|t${target.tenant}|s${k}|ts${epochMs().toFixed(3)}| Hello, is the clinic open on Saturday? (${k})`;
      const params = inboundSmsParams({ accountSid: target.accountSid, from, to: target.to, body });
      const form = new URLSearchParams(params).toString();
      const signature = computeTwilioSignature(target.authToken, target.url, params);
      const path = new URL(target.url).pathname;
      sentByTenant[target.tenant] = (sentByTenant[target.tenant] ?? 0) + 1;
      inFlight++;
      sent++;
      const start = performance.now();
      const req = http.request(
        {
          host: origin.hostname,
          port: origin.port,
          method: 'POST',
          path,
          agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(form),
            'x-twilio-signature': signature,
            'user-agent': 'TwilioProxy/1.1',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - start);
            if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) ok++;
            else non2xx++;
            settle();
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        settle();
      });
      req.end(form);
    };

    const settle = () => {
      inFlight--;
      done++;
      if (done === job.count) finish();
    };

    const tick = () => {
      const now = performance.now();
      const due = Math.min(job.count, Math.floor(((now - t0) * job.rate) / 1000) + 1);
      while (sent < due && inFlight < job.maxInFlight) {
        const lag = now - (t0 + (sent * 1000) / job.rate);
        if (lag > maxLagMs) maxLagMs = lag;
        sendOne(sent);
      }
      if (sent < job.count) setTimeout(tick, 1);
    };
    if (job.count === 0) finish();
    else tick();
  });
}

