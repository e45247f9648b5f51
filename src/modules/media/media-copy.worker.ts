import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppDeps } from '../../shared/deps.js';
import { errorText } from '../../shared/errors.js';
import { saveMediaFile } from '../media-files/media-files.service.js';
import { twilioCredentials } from '../twilio-accounts/credentials.js';
import { MediaCopyQueue, MediaCopyRepository, type ClaimedCopyJob } from './media-copy.repository.js';
import { MediaFetchError, fetchTwilioMedia } from './media-proxy.js';
import { MediaRepository } from './media.repository.js';
import { WakeableIdle } from '../../shared/wakeable-idle.js';

const BATCH = 4;
const LEASE_SECONDS = 120;
const MAX_ATTEMPTS = 10;
const BACKOFF_BASE_MS = 2000;
const BACKOFF_MAX_MS = 3_600_000;
const BODY_DEADLINE_MS = 60_000;

/**
 * Copies inbound media into our storage (Postgres or S3), so it survives Twilio's deletion (and
 * the account's retention jobs). The jobs are written with the message, in the webhook's
 * statement, so a crash loses none; any instance runs them. The fetch uses the account's
 * credentials against its own API origin only and follows Twilio's redirect to the CDN without
 * them (fetchTwilioMedia). Until the copy exists the media route proxies Twilio as before.
 */
export class MediaCopyWorker {
  private readonly queue: MediaCopyQueue;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly idle = new WakeableIdle();

  constructor(private readonly deps: AppDeps) {
    this.queue = new MediaCopyQueue(deps.db, `${hostname()}:${process.pid}:media:${randomUUID().slice(0, 8)}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.deps.mediaCopy.onWake(() => this.wake());
    this.loop = this.run();
  }

  wake(): void {
    this.idle.wake();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.deps.mediaCopy.onWake(null);
    this.wake();
    await this.loop;
    await this.queue.releaseHeld().catch(() => {});
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.idle.beginRound();
      let claimed: ClaimedCopyJob[] = [];
      try {
        claimed = await this.queue.claim(BATCH, LEASE_SECONDS);
        await Promise.all(claimed.map((job) => this.process(job)));
      } catch (err) {
        if (this.running) this.deps.logger.error({ err }, 'media copy round failed');
      }
      if (!this.running) break;
      if (claimed.length === BATCH) continue;
      await this.idle.idle(this.deps.config.media.copyPollMs);
    }
  }

  private async process(job: ClaimedCopyJob): Promise<void> {
    const { deps } = this;
    const log = deps.logger.child({ tenantId: job.tenantId, messageId: job.messageId, mediaIndex: job.mediaIndex, attempt: job.attempts });
    try {
      const source = await new MediaRepository(deps.db, job.tenantId).findInboundMedia(job.messageId, job.mediaIndex);
      if (!source || source.media.fileId) {
        await this.queue.complete(job.id);
        return;
      }
      const bytes = await this.download(source.media.url, twilioCredentials(deps.secretBox, source.account));
      if (bytes === null) {
        log.warn({ maxBytes: deps.config.media.copyMaxBytes }, 'inbound media too large to copy; it stays served from Twilio');
        await this.queue.complete(job.id);
        return;
      }
      await deps.db.transaction(async (tx) => {
        const file = await saveMediaFile(
          deps,
          job.tenantId,
          { origin: 'INBOUND', contentType: source.media.contentType, bytes, createdBy: null },
          tx,
        );
        await new MediaCopyRepository(tx, job.tenantId).attachCopy(job.messageId, job.mediaIndex, file.id);
        await this.queue.with(tx).complete(job.id);
      });
      log.debug({ size: bytes.length }, 'inbound media copied');
    } catch (err) {
      const gone = err instanceof MediaFetchError && err.httpStatus === 404;
      if (gone || job.attempts >= MAX_ATTEMPTS) {
        log.warn({ reason: errorText(err) }, gone ? 'inbound media gone at Twilio before it was copied' : 'inbound media copy given up');
        await this.queue.complete(job.id).catch(() => {});
        return;
      }
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (job.attempts - 1));
      log.info({ reason: errorText(err), delayMs: delay }, 'inbound media copy failed; will retry');
      await this.queue.reschedule(job.id, delay, errorText(err)).catch(() => {});
    }
  }

  /** The whole body, or null past MEDIA_COPY_MAX_BYTES. */
  private async download(url: string, creds: Parameters<typeof fetchTwilioMedia>[1]): Promise<Buffer | null> {
    const max = this.deps.config.media.copyMaxBytes;
    const res = await fetchTwilioMedia(url, creds, this.deps.config.twilioTimeoutMs, this.deps.config.outbound);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > max) {
      await res.body?.cancel();
      return null;
    }
    if (!res.body) return Buffer.alloc(0);
    const body = res.body;
    const read = (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > max) return null;
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks, size);
    })();
    // The fetch deadline covers the headers; a stalled body must not hold the worker either.
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('inbound media download stalled')), BODY_DEADLINE_MS);
    });
    try {
      return await Promise.race([read, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }
}
