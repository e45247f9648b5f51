import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS entry for type-graphql and graphql-ws; Vite would give our
    // sources the .mjs one ("module" field). Two copies of graphql refuse each other's schema.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: each file starts a real server and database; more workers only thrash.
    maxWorkers: 2,
    testTimeout: 30_000,
    // CI runs on two shared cores where every file starts real servers: a test that lost a race
    // with the machine (not with the code) gets one more try there. Locally a failure is final;
    // test/helpers/retry-reporter.ts names every test that needed the retry in CI's log.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
