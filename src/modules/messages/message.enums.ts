export enum MessageDirection {
  INBOUND = 'INBOUND',
  OUTBOUND = 'OUTBOUND',
}

export enum MessageStatus {
  RECEIVED = 'RECEIVED',
  QUEUED = 'QUEUED',
  SENDING = 'SENDING',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  UNDELIVERED = 'UNDELIVERED',
  FAILED = 'FAILED',
  READ = 'READ',
}

/** Who or what wrote a message: the customer, an agent, an automated message, or a campaign. */
export enum MessageSource {
  CUSTOMER = 'CUSTOMER',
  AGENT = 'AGENT',
  AUTOMATION = 'AUTOMATION',
  CAMPAIGN = 'CAMPAIGN',
}
