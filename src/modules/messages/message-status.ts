import { MessageStatus } from './message.enums.js';

/**
 * Statuses only move forward: QUEUED < SENDING < SENT < DELIVERED < READ. UNDELIVERED and FAILED
 * are final. Twilio's callbacks arrive out of order and repeat, so a late "sent" must never
 * overwrite "delivered" and nothing leaves a final state.
 */
const RANK: Record<MessageStatus, number> = {
  [MessageStatus.RECEIVED]: 0,
  [MessageStatus.QUEUED]: 1,
  [MessageStatus.SENDING]: 2,
  [MessageStatus.SENT]: 3,
  [MessageStatus.DELIVERED]: 4,
  [MessageStatus.READ]: 5,
  [MessageStatus.UNDELIVERED]: 6,
  [MessageStatus.FAILED]: 6,
};

export const FINAL_STATUSES: readonly MessageStatus[] = [MessageStatus.UNDELIVERED, MessageStatus.FAILED];

export function isFinalStatus(status: MessageStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** Whether a message in `from` may move to `to`. Equal statuses are not a move. */
export function canAdvance(from: MessageStatus, to: MessageStatus): boolean {
  if (isFinalStatus(from)) return false;
  // READ after DELIVERED is progress, but a failure report after READ is a carrier's late
  // afterthought: the customer has read it.
  if (from === MessageStatus.READ) return false;
  return RANK[to] > RANK[from];
}

/** The statuses a message may be in for a move to `to` to apply (for an UPDATE ... WHERE status IN). */
export function statusesBefore(to: MessageStatus): MessageStatus[] {
  return (Object.values(MessageStatus) as MessageStatus[]).filter((from) => canAdvance(from, to));
}

/** Twilio's MessageStatus values mapped to ours; null for ones we do not track (e.g. scheduled). */
export function fromTwilioStatus(twilioStatus: string): MessageStatus | null {
  switch (twilioStatus.toLowerCase()) {
    case 'accepted':
    case 'queued':
    case 'scheduled':
      return MessageStatus.QUEUED;
    case 'sending':
      return MessageStatus.SENDING;
    case 'sent':
      return MessageStatus.SENT;
    case 'delivered':
    case 'partially_delivered':
      return MessageStatus.DELIVERED;
    case 'read':
      return MessageStatus.READ;
    case 'undelivered':
      return MessageStatus.UNDELIVERED;
    case 'failed':
    case 'canceled':
      return MessageStatus.FAILED;
    case 'received':
    case 'receiving':
      return MessageStatus.RECEIVED;
    default:
      return null;
  }
}
