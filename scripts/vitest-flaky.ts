/**
 * A vitest reporter that names every test which passed only on a retry. The end-to-end projects retry a failed test
 * once (vitest.config.ts): they run real servers, agents and containers two files at a time on a shared machine,
 * where a deadline can be missed by load alone. A retry must not hide that, so each flaky test is listed at the end
 * of the run with the error of its failed attempt, for someone to look at the cause.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class FlakyReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const flaky: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests('passed')) {
        if (!t.diagnostic()?.flaky) continue;
        const first = t.result().errors?.[0]?.message?.split('\n')[0];
        flaky.push(`${relative(process.cwd(), m.moduleId)}: ${t.fullName}${first ? `\n      first attempt: ${first}` : ''}`);
      }
    }
    if (flaky.length === 0) return;
    process.stderr.write(`\nFLAKY: ${flaky.length} test(s) passed only when retried (the run still passes):\n${flaky.map((s) => `  - ${s}`).join('\n')}\n`);
  }
}
