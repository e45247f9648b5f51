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
    const result = testCase.result();
    // Vitest keeps the failed attempts' errors on a test that passed on its retry: the first says why it flaked.
    const first = 'errors' in result ? result.errors?.[0]?.message : undefined;
    const why = first ? ` (first attempt: ${first.split('\n')[0]!.slice(0, 300)})` : '';
    const line = `RETRIED x${diagnostic.retryCount} (${result.state}) ${testCase.module.moduleId.replace(process.cwd() + '/', '')} > ${testCase.fullName}${why}`;
    console.log(line);
    try {
      appendFileSync('.ci/out/retried.txt', `[${process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'}] ${line}\n`);
    } catch {
      // .ci/out exists only under .ci/run
    }
  }
}
