/**
 * Preloaded (--import) into every process the benchmark starts, the server included (src/ is not
 * touched): when the harness goes away, its IPC channel closes and this process exits, so no
 * server, load generator or client outlives an interrupted run.
 */
if (process.send) {
  process.on('disconnect', () => process.exit(1));
  // Never keep a process alive just for the channel.
  process.channel?.unref();
}
export {};
