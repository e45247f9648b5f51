import type { Db } from '../../db/client.js';
import type { OutboxPort } from '../../shared/deps.js';
import type { SQL } from 'drizzle-orm';
import { WorkerSignal } from '../../shared/worker-signal.js';
import { OutboxRepository, enqueueSql } from './outbox.repository.js';

/**
 * The outbox as the modules that write messages see it (AppDeps.outbox, built in src/app.ts), so
 * they do not import the outbox module. A service that just committed outbox jobs wakes this
 * instance's dispatcher, so a reply leaves at once instead of at the next poll; other instances
 * find the jobs by polling. The other way, the dispatcher that emptied the queue wakes this
 * instance's campaign runner, which hands over a campaign's next texts only while few wait.
 */
export class OutboxSignal implements OutboxPort {
  private readonly enqueued = new WorkerSignal();
  private readonly drained = new WorkerSignal();

  enqueue(tx: Db, tenantId: string, messageId: string, phoneNumberId: string): Promise<void> {
    return new OutboxRepository(tx, tenantId).enqueue(messageId, phoneNumberId);
  }

  enqueueSql(rows: SQL): SQL {
    return enqueueSql(rows);
  }

  onEnqueued(wake: (() => void) | null): void {
    this.enqueued.onWake(wake);
  }

  notifyEnqueued(): void {
    this.enqueued.wake();
  }

  onDrained(wake: (() => void) | null): void {
    this.drained.onWake(wake);
  }

  notifyDrained(): void {
    this.drained.wake();
  }
}
