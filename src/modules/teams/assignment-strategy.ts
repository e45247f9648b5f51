/** Plain enum shared by the drizzle schema and GraphQL (registered in team.type.ts). */
export enum AssignmentStrategy {
  MANUAL = 'MANUAL',
  ROUND_ROBIN = 'ROUND_ROBIN',
  LEAST_BUSY = 'LEAST_BUSY',
}
