import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase } from 'vitest/node';

/**
 * CI retries a failed test once (vitest.config.ts). This reporter makes each retry visible: a test
 * that passed only on its second try is written to `.ci/out/retried.txt` and printed, so flakiness
 * is tracked instead of hidden.
 */
export default class RetryReporter implements Reporter {
  onTestCaseResult(testCase: TestCase): void {
    const diagnostic = testCase.diagnostic();
    if (!diagnostic || diagnostic.retryCount === 0) return;
    const line = `RETRIED x${diagnostic.retryCount} (${testCase.result().state}) ${testCase.module.moduleId.replace(process.cwd() + '/', '')} > ${testCase.fullName}`;
    console.log(line);
    try {
      appendFileSync('.ci/out/retried.txt', `[${process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'}] ${line}\n`);
    } catch {
      // .ci/out exists only under .ci/run
    }
  }
}
