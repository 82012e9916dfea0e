import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PODMAN = '/usr/bin/podman';
export const hasPodman = existsSync(PODMAN);

export interface PodmanResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Podman {
  readonly dir: string;
  /** Run `podman <args>` against this instance's private storage, feeding `stdin` when given. */
  run(args: string[], stdin?: string): Promise<PodmanResult>;
  /** Run a shell command line in which `$PODMAN` is this podman (for pipelines such as the ECR login). */
  shell(command: string, env?: NodeJS.ProcessEnv): Promise<PodmanResult>;
  cleanup(): Promise<void>;
}

/**
 * A podman with its own storage, configuration and credentials in a temporary directory (vfs driver),
 * so tests never touch the machine's podman storage or each other's.
 */
export function isolatedPodman(): Podman {
  const dir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  for (const d of ['root', 'run', 'tmp']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  writeFileSync(join(dir, 'containers.conf'), '[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n');
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    TMPDIR: join(dir, 'tmp'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
  };
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const exec = (file: string, args: string[], extraEnv: NodeJS.ProcessEnv, stdin?: string) =>
    new Promise<PodmanResult>((resolve) => {
      const options = { env: { ...env, ...extraEnv }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 };
      const child = execFile(file, args, options, (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      });
      child.stdin!.end(stdin ?? '');
    });
  return {
    dir,
    run: (args, stdin) => exec(PODMAN, [...global, ...args], {}, stdin),
    shell: (command, extraEnv = {}) => exec('/bin/sh', ['-c', command], { ...extraEnv, PODMAN: `${PODMAN} ${global.join(' ')}` }),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
