/**
 * A server as its own process, for tests that need several instances on one database (or a
 * crash): `node --import tsx test/helpers/server-process.ts` with the configuration in the
 * environment, like `npm start`. Prints one JSON line `{"ready":true,"url":...}` once listening.
 */
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

const app = await startApp(loadConfig(process.env));
process.stdout.write(`${JSON.stringify({ ready: true, url: app.url, pid: process.pid })}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
