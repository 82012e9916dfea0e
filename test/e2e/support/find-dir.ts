import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The directory named `name` at most `depth` levels under `root`, if any: a task's cgroup directory (named after its
 * task id and container) under a hierarchy. Used by the Fargate e2e test and, through vite, by the benchmarks.
 */
export function findDir(root: string, name: string, depth: number): string | undefined {
  if (depth < 0 || !existsSync(root)) return undefined;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (entry.name === name) return join(root, name);
    const found = findDir(join(root, entry.name), name, depth - 1);
    if (found) return found;
  }
  return undefined;
}
