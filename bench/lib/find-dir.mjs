// Finding a task's cgroup directory (named after its task id and container) under a hierarchy, for the benchmarks.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The directory named `name` at most `depth` levels under `dir`. */
export function findDir(dir, name, depth) {
  if (depth < 0 || !existsSync(dir)) return undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name === name) return join(dir, name);
    const found = findDir(join(dir, e.name), name, depth - 1);
    if (found) return found;
  }
  return undefined;
}
