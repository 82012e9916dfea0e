import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { REPO_ROOT, type BerthServerProcess } from './berth-server.js';

export const CLI = join(REPO_ROOT, 'dist/cli/main.js');
/** Any SGR escape (colour, bold). */
export const ANSI = /\x1b\[[0-9;]*m/;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const settle = (resolve: (run: CliRun) => void) => (error: Error | null, stdout: string, stderr: string) =>
  resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });

/** The built CLI with its output through pipes. */
export function berthPiped(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve) => void execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, settle(resolve)));
}

/**
 * The built CLI on a pseudo-terminal: util-linux `script` gives it one (TERM=xterm unless `env` says otherwise);
 * what it wrote to the terminal, stdout and stderr together, comes back on `stdout`; `-e` passes its exit status on.
 */
export function berthOnTerminal(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliRun> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => void execFile('script', ['-qec', command, '/dev/null'], { env: { TERM: 'xterm', ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, settle(resolve)));
}

/**
 * What a person's shell would have: the server's URL in BERTH_ENDPOINT and the directory of the credentials file
 * it wrote in BERTH_DATA_DIR, nothing else naming credentials (the CLI finds the file itself).
 */
export const peopleEnv = (server: BerthServerProcess): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  BERTH_ENDPOINT: server.url,
  BERTH_DATA_DIR: dirname(server.credentialsFile),
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
