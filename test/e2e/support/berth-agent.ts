import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './berth-server.js';

const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export interface BerthAgentProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  stderr(): string;
  /** Resolves when the agent has logged `pattern` (or rejects when it exits first). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface AgentProcessOptions {
  readonly endpoint: string;
  readonly dataDir: string;
  /** The agent's credentials, from its environment as the SDK's chain reads them (a session token for a role's). */
  readonly keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly cluster?: string;
  /** ECS_* and BERTH_* settings. */
  readonly env?: Record<string, string>;
  /** Run inside this network namespace (a simulated host). */
  readonly netns?: string;
}

/** Start the built `berth agent` as its own process (as root; it runs real containers). */
export function startBerthAgent(options: AgentProcessOptions): BerthAgentProcess {
  const args = [CLI, 'agent', '--endpoint', options.endpoint, '--data-dir', options.dataDir, '--config', '/dev/null'];
  if (options.cluster) args.push('--cluster', options.cluster);
  // nsenter joins only the network namespace: `ip netns exec` would also remount /sys, hiding the cgroup
  // hierarchies runc needs.
  const command = options.netns ? 'nsenter' : process.execPath;
  const argv = options.netns ? [`--net=/var/run/netns/${options.netns}`, '--', process.execPath, ...args] : args;
  const child = spawn(command, argv, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: options.keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.keys.secretAccessKey,
      ...(options.keys.sessionToken ? { AWS_SESSION_TOKEN: options.keys.sessionToken } : {}),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ECS_LOGLEVEL: 'debug',
      // Agents of concurrent test runs share the root network namespace: each takes a free port for the
      // task metadata endpoint rather than 169.254.170.2:80 (a test that needs port 80 runs in a namespace).
      BERTH_METADATA_ADDRESS: '169.254.170.2:0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    dataDir: options.dataDir,
    stderr: () => output,
    waitForLog(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`agent did not log ${pattern} in ${timeoutMs} ms:\n${output.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`agent exited (${code}) before logging ${pattern}:\n${output.slice(-4000)}`));
        });
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
