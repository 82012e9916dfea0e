import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSharedCredentials } from '../../../src/api/auth/credentials.js';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export interface BerthServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly credentialsFile: string;
  readonly keys: { accessKeyId: string; secretAccessKey: string };
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout so far (its log lines, pino JSON). */
  stdout(): string;
  /** Send a signal and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Start the built `berth server` as its own process on a free loopback port and wait until it listens.
 * `credentialsDir`: where it keeps the root credentials when not the data directory (`--shared-dir` with etcd).
 * `netns`: run it inside this network namespace (a simulated host; give `--listen` an address of that host).
 */
export async function startBerthServer(
  dataDir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: { credentialsDir?: string; netns?: string } = {},
): Promise<BerthServerProcess> {
  const args = [CLI, 'server', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'warn', ...extraArgs];
  // nsenter joins only the network namespace and execs node (no fork): the child is the server itself, so a
  // signal sent to it reaches the server.
  const [command, argv] = options.netns ? ['nsenter', [`--net=/var/run/netns/${options.netns}`, '--', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded 2-core machine (parallel e2e files) can take tens of seconds to load and open the store.
    // A server that missed it is killed, so it never outlives its test.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth server did not start within 60 s:\n${stderr}`));
    }, 60_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`berth server exited with ${code}:\n${stderr}`));
    });
  });
  const credentialsFile = join(options.credentialsDir ?? dataDir, 'credentials');
  const profile = env.BERTH_ACCESS_KEY_ID
    ? { aws_access_key_id: env.BERTH_ACCESS_KEY_ID, aws_secret_access_key: env.BERTH_SECRET_ACCESS_KEY! }
    : parseSharedCredentials(readFileSync(credentialsFile, 'utf8')).berth!;
  return {
    url,
    dataDir,
    credentialsFile,
    keys: { accessKeyId: profile.aws_access_key_id!, secretAccessKey: profile.aws_secret_access_key! },
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
