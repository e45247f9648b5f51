import { ConfigError, loadConfig, type Config } from './config.js';
import { startApp, type StartOptions } from './app.js';

let config: Config;
try {
  // `npm run sandbox` passes --sandbox: the same as SANDBOX=true.
  config = loadConfig(process.argv.includes('--sandbox') ? { ...process.env, SANDBOX: 'true' } : process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

try {
  // Imported only in sandbox mode: a normal start loads nothing of it.
  const sandbox = config.sandbox ? await (await import('./sandbox/sandbox.js')).startSandbox(config) : null;
  const options: StartOptions = sandbox?.startOptions ?? {};
  const app = await startApp(config, options);
  const publicUrl = app.deps.config.publicUrl;
  process.stdout.write(`SMS inbox API ready at ${app.url}/graphql (public URL ${publicUrl})\n`);
  if (sandbox) {
    const seeded = await sandbox.seedIfEmpty(app.url);
    const { printSandboxWelcome } = await import('./sandbox/welcome.js');
    process.stdout.write(printSandboxWelcome(publicUrl, sandbox.simulator.url, seeded, await sandbox.info()));
  } else {
    process.stdout.write(`Agent console at ${publicUrl}/\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.deps.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.deps.logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.deps.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Failed to start: ${message}\n`);
  process.exit(1);
}
