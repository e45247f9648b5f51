import type { Config } from '../../config.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import type { PacingRates } from './outbox.repository.js';

/** What pacing needs to know of a send: its sender (our number), the number's type, its segments. */
export interface PacedSend {
  phoneNumberId: string;
  numberType: NumberType;
  segments: number;
}

/**
 * Per-sender pacing on this instance, and the dispatcher's interruptible sleep. Slots are booked
 * in the database at claim time (sender_pacing, shared by instances, see OutboxQueue.claim); the
 * gate here, checked and moved at departure, keeps jobs that ran late (slow database, busy event
 * loop) from leaving in a bunch.
 */
export class SenderPacer {
  /** Per sender, the earliest local time its next send may leave this instance. */
  private readonly senderGates = new Map<string, number>();

  constructor(
    private readonly config: () => Pick<Config, 'pacing' | 'dispatcher'>,
    /** Aborted when the dispatcher stops: every sleep ends at once. */
    private readonly stopping: AbortSignal,
  ) {}

  /** The rates claims book slots with; null when pacing is off (every due job is claimable). */
  rates(): PacingRates | null {
    const { pacing, dispatcher } = this.config();
    if (!pacing.enabled) return null;
    return {
      mps: {
        [NumberType.LONG_CODE]: pacing.longCodeMps,
        [NumberType.TOLL_FREE]: pacing.tollFreeMps,
        [NumberType.SHORT_CODE]: pacing.shortCodeMps,
      },
      horizonMs: Math.max(1000, 2 * dispatcher.pollMs),
    };
  }

  /** When this send may leave, as planned now: its booked slot, or later if the sender's gate is later. */
  plannedTurn(send: PacedSend, slot: number): number {
    return this.rates() ? Math.max(slot, this.senderGates.get(send.phoneNumberId) ?? 0) : slot;
  }

  /**
   * Waits until this send may call Twilio: its booked slot, and never closer to this instance's
   * previous call on the same number than that call's segments allow. False when stopping.
   */
  async waitForTurn(send: PacedSend, slot: number): Promise<boolean> {
    const rates = this.rates();
    if (!rates) return this.sleep(slot - Date.now());
    const key = send.phoneNumberId;
    for (;;) {
      const at = Math.max(slot, this.senderGates.get(key) ?? 0);
      const now = Date.now();
      if (at <= now) {
        // Check and move in one synchronous step: no other job of this sender can slip in between.
        this.senderGates.set(key, now + (Math.max(1, send.segments) * 1000) / rates.mps[send.numberType]);
        if (this.senderGates.size > 10_000) {
          for (const [sender, gate] of this.senderGates) if (gate < now) this.senderGates.delete(sender);
        }
        return true;
      }
      if (!(await this.sleep(at - now))) return false;
    }
  }

  /** Resolves true after ms, false at once when the dispatcher stops. */
  sleep(ms: number): Promise<boolean> {
    const signal = this.stopping;
    if (ms <= 0) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
