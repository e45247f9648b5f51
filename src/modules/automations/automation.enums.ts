/** Plain enum shared by the drizzle schema and GraphQL (registered in automated-message.type.ts). */
export enum AutomatedMessageTrigger {
  GREETING = 'GREETING',
  OUT_OF_HOURS = 'OUT_OF_HOURS',
  ALL_AGENTS_BUSY = 'ALL_AGENTS_BUSY',
  RESOLVED = 'RESOLVED',
  CSAT_SURVEY = 'CSAT_SURVEY',
  FAILURE = 'FAILURE',
}

/** Where a conversation's survey stands. */
export enum SurveyState {
  /** Waiting for the RESOLVED text to be SENT. */
  WAITING = 'WAITING',
  /** The survey text is queued (or out); ratings are taken within 24 h of requested_at. */
  REQUESTED = 'REQUESTED',
  /** Not sent: the RESOLVED text failed, the survey was switched off, or the contact opted out. */
  SKIPPED = 'SKIPPED',
}
