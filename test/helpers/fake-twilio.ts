/**
 * The fake Twilio of the tests is the sandbox's Twilio simulator: one implementation for tests,
 * benchmarks and `npm run sandbox` (src/sandbox/twilio-simulator.ts). This module stays so that
 * test imports keep their path.
 */
export * from '../../src/sandbox/twilio-simulator.js';
