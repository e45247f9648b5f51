import type { Logger } from './logger.js';

/**
 * Runs `work` every `intervalMs` (never two runs at once) until stopped; `stop()` waits for the
 * run in progress. `kick()` runs it at the next tick instead of after the interval.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  /** Started and not stopped since (a run may be under way or the next one scheduled). */
  get active(): boolean {
    return !this.stopped && (this.timer !== null || this.running !== null);
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.running) return;
    this.running = this.work()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error({ err, task: this.name }, 'periodic task failed'));
    await this.running;
    this.running = null;
    this.schedule(this.intervalMs);
  }
}
