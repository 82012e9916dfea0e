/**
 * A vitest reporter for CI (scripts/test.sh sets BERTH_NO_SKIPS=1): tests that need a real part (root, the AWS CLI,
 * HAProxy, podman, …) skip themselves when it is missing, which is right on a developer's laptop and wrong in CI,
 * where scripts/install.sh --test installed every part. Here a skipped test fails the run, naming it.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class NoSkipsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const m of testModules) for (const t of m.children.allTests('skipped')) skipped.push(`${m.moduleId}: ${t.fullName}`);
    if (skipped.length === 0) return;
    process.stderr.write(`\nBERTH_NO_SKIPS: ${skipped.length} test(s) skipped, but CI must run every test (a real part is missing?):\n${skipped.map((s) => `  - ${s}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}
