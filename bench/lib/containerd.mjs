// containerd for the benchmarks: Debian's package (apt-get install -y containerd), started by the bench
// with its own root, state and socket in a temporary directory (the CRI plugin off: nothing but ctr's
// path is measured), and `ctr` against it in its own namespace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

/** Why containerd cannot be measured here, or undefined when it can. */
export function containerdMissing() {
  if (!existsSync(CONTAINERD) || !existsSync(CTR)) return `containerd is not installed (apt-get install -y containerd)`;
  return undefined;
}

/** Start containerd in `dir`; resolves once it answers. `ctr(args)` runs ctr against it; `stop()` ends it. */
export async function startContainerd(dir) {
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const child = spawn(CONTAINERD, ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  const ctr = (args) =>
    new Promise((resolve, reject) => {
      const p = spawn(CTR, ['--address', sock, '--namespace', 'berth-bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`ctr ${args.join(' ')}: exit ${code}: ${out}`))));
    });
  for (const deadline = Date.now() + 15_000; ; ) {
    if (child.exitCode !== null) throw new Error(`containerd exited: ${log}`);
    if (spawnSync(CTR, ['--address', sock, 'version'], { stdio: 'ignore' }).status === 0) break;
    if (Date.now() > deadline) throw new Error(`containerd did not answer: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    ctr,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
