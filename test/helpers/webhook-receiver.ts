import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: any };
  /** Status answered (0 while pending or when never answered). */
  status: number;
  at: number;
}

/** What to answer one request: a status, or 'hang' to never answer. */
export type ReceiverAnswer = number | 'hang';

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT/hook */
  url: string;
  received: ReceivedWebhook[];
  /** Most requests open at the same time so far. */
  readonly maxConcurrent: number;
  /** Decides each answer (default 200). */
  answer(decide: (req: ReceivedWebhook, index: number) => ReceiverAnswer): void;
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback, as a tenant's integration would run one. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let decide: (req: ReceivedWebhook, index: number) => ReceiverAnswer = () => 200;
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  let open = 0;
  let maxConcurrent = 0;
  const server: Server = createServer((req, res) => {
    open++;
    maxConcurrent = Math.max(maxConcurrent, open);
    res.on('close', () => open--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: ReceivedWebhook['json'];
      try {
        json = JSON.parse(body);
      } catch {
        json = { type: 'unparseable', timestamp: '', data: null };
      }
      const record: ReceivedWebhook = { headers: req.headers, body, json, status: 0, at: Date.now() };
      received.push(record);
      const answer = decide(record, received.length - 1);
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      record.status = answer;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get maxConcurrent() {
      return maxConcurrent;
    },
    answer(d) {
      decide = d;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
