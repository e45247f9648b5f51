import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { WebhookParams } from '../inbound/webhook-params.js';

/** One inbound text the fallback URL took while the database could not. */
export interface SpooledMessage {
  webhookKey: string;
  accountId: string;
  tenantId: string;
  messageSid: string;
  /** Exactly as posted (signature checked before spooling). */
  params: WebhookParams;
  receivedAt: string;
}

const SUFFIX = '.json';
const SAFE = /^[A-Za-z0-9_-]+$/;

/**
 * A durable local spool: one file per message, named by account and MessageSid (a repeat
 * overwrites, never doubles), written to a temporary name, fsynced, renamed into place and the
 * folder fsynced, so a crash leaves either the whole file or none. Messages that can never be
 * stored (their account is gone, malformed) move to `rejected/` for an operator, never deleted.
 */
export class Spool {
  private readonly rejectedDir: string;
  private ready: Promise<void> | null = null;

  constructor(readonly dir: string) {
    this.rejectedDir = join(dir, 'rejected');
  }

  private ensure(): Promise<void> {
    this.ready ??= mkdir(this.rejectedDir, { recursive: true }).then(() => undefined);
    return this.ready;
  }

  async put(message: SpooledMessage): Promise<string> {
    if (!SAFE.test(message.accountId) || !SAFE.test(message.messageSid)) throw new Error('unsafe spool file name');
    await this.ensure();
    const name = `${message.accountId}_${message.messageSid}${SUFFIX}`;
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(message));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(this.dir, name));
    await syncDir(this.dir);
    return name;
  }

  /** Spooled file names, oldest name order (not significant: each is stored on its own). */
  async list(): Promise<string[]> {
    await this.ensure();
    return (await readdir(this.dir)).filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).sort();
  }

  async read(name: string): Promise<SpooledMessage> {
    return JSON.parse(await readFile(join(this.dir, name), 'utf8')) as SpooledMessage;
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // another instance sharing the folder took it
    });
  }

  async reject(name: string): Promise<void> {
    await rename(join(this.dir, name), join(this.rejectedDir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}
