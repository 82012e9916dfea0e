// podman for the benchmarks, with its storage in a temporary directory (not the host's
// /var/lib/containers) and runc as its runtime.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Why podman cannot be measured here, or undefined when it can. */
export function podmanMissing() {
  return spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'podman is not installed (apt-get install -y podman)';
}

/** `podman(args)` with storage under `dir` and runc; resolves with its output. `cleanup()` removes what it made. */
export function podmanIn(dir) {
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const podman = (args) =>
    new Promise((resolve, reject) => {
      const p = spawn('podman', [...global, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`podman ${args.join(' ')}: exit ${code}: ${out}`))));
    });
  return {
    podman,
    async cleanup() {
      await podman(['rm', '--all', '--force']).catch(() => {});
      // Its overlay mounts go with `system reset` (which also removes the storage directories).
      await podman(['system', 'reset', '--force']).catch(() => {});
    },
  };
}
