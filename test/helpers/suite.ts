import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from './fake-twilio.js';
import { startTestServer, type TestServer } from './test-server.js';

export interface Started {
  server: TestServer;
  fake: FakeTwilio;
}

/**
 * The suite's real server and fake Twilio: started (in parallel) before the file's tests, then
 * `setUp` runs (assign them to the file's variables there, create tenants, ...); the fake's
 * recorded requests and scripted failures are cleared after each test unless `resetFakeAfterEach`
 * is false; both are stopped after the file.
 *
 *   let server: TestServer; let fake: FakeTwilio;
 *   serverWithFakeTwilio({ DISPATCHER_ENABLED: 'false' }, async (started) => {
 *     ({ server, fake } = started);
 *     inbox = await setUpInbox(server, fake);
 *   });
 */
export function serverWithFakeTwilio(
  env: Record<string, string> = {},
  setUp: (started: Started) => Promise<void> | void = () => {},
  opts: { resetFakeAfterEach?: boolean } = {},
): void {
  let server: TestServer | undefined;
  let fake: FakeTwilio | undefined;
  beforeAll(async () => {
    const [startedServer, startedFake] = await Promise.allSettled([startTestServer(env), startFakeTwilio()]);
    if (startedServer.status === 'fulfilled') server = startedServer.value;
    if (startedFake.status === 'fulfilled') fake = startedFake.value;
    if (startedServer.status === 'rejected') throw startedServer.reason;
    if (startedFake.status === 'rejected') throw startedFake.reason;
    await setUp({ server: server!, fake: fake! });
  });
  if (opts.resetFakeAfterEach !== false) afterEach(() => fake?.reset());
  afterAll(async () => {
    await Promise.all([server?.close(), fake?.close()]);
  });
}
