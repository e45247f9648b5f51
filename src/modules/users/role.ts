/** Plain enum shared by the drizzle schema and GraphQL (registered in user.type.ts). */
export enum Role {
  ADMIN = 'ADMIN',
  AGENT = 'AGENT',
}
