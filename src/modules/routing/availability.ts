/** Plain enum shared by the drizzle schema and GraphQL (registered in routing.types.ts). */
export enum Availability {
  ONLINE = 'ONLINE',
  AWAY = 'AWAY',
  OFFLINE = 'OFFLINE',
}
