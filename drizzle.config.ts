import { defineConfig } from 'drizzle-kit';

// Migrations are generated from every feature's drizzle tables and committed under drizzle/;
// the server applies the same SQL at start-up on Postgres and on PGlite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/modules/*/*.schema.ts',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
});
