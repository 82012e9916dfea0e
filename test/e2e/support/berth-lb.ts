import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './berth-server.js';

const CLI = join(REPO_ROOT, 'dist/cli/main.js');

/** A built `berth lb` process (its HAProxy a child of it). */
export interface BerthLbProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  output(): string;
  /** Send `signal` and wait for the process to exit (nothing when it is gone already). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface BerthLbOptions {
  readonly endpoint: string;
  readonly keys: { accessKeyId: string; secretAccessKey: string };
  readonly dataDir: string;
  readonly region: string;
  readonly address?: string;
  readonly nodeId?: string;
  /** More flags (`--metrics-listen`). */
  readonly extraArgs?: readonly string[];
}

/** Start `berth lb` (log level `debug` when LB_E2E_DEBUG is set, else `warn`). */
export function startBerthLb(o: BerthLbOptions): BerthLbProcess {
  const args = [CLI, 'lb', '--endpoint', o.endpoint, '--address', o.address ?? '127.0.0.1', '--node-id', o.nodeId ?? 'lb-e2e', '--data-dir', o.dataDir, '--region', o.region, ...(o.extraArgs ?? [])];
  const child = spawn(process.execPath, [...args, '--log-level', process.env.LB_E2E_DEBUG ? 'debug' : 'warn'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: o.keys.accessKeyId, AWS_SECRET_ACCESS_KEY: o.keys.secretAccessKey, AWS_SESSION_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    dataDir: o.dataDir,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await gone;
    },
  };
}
