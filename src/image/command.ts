/**
 * Running the system binaries Node has no API for (mount, umount, mknod, setfattr) with arguments as an
 * array — never through a shell — and failures that carry the tool's own message.
 */
import { execFile } from 'node:child_process';
import type { SpawnFn } from '../process/spawn-helper.js';

/** A command that could not start or exited non-zero. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    cause?: unknown,
  ) {
    super(`${command}: ${stderr.trim() || (exitCode === null ? 'could not run' : `exited with ${exitCode}`)}`, cause === undefined ? undefined : { cause });
  }
}

export interface CommandOptions {
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /**
   * How the process is started: the agent's spawn helper (process/spawn-helper.ts), whose forks do not block
   * the agent's event loop as its own do; Node's execFile when absent.
   */
  readonly spawn?: SpawnFn;
}

/** Run `file` with `args` and resolve with its stdout; reject with {@link CommandError}. */
export function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  if (options.spawn) return runSpawned(options.spawn, file, args, options);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, maxBuffer: 4 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === 'number' ? error.code : null;
        const detail = stderr || (typeof error.code === 'string' ? `${error.code} (is ${file} installed?)` : error.message);
        reject(new CommandError(`${file} ${args.join(' ')}`, code, detail, error));
      },
    );
  });
}

/** {@link runCommand} through a {@link SpawnFn}. */
function runSpawned(spawn: SpawnFn, file: string, args: readonly string[], options: CommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...(options.cwd ? { cwd: options.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (stdout += d));
    child.stderr?.on('data', (d: string) => (stderr += d));
    let done = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    const finish = (error: CommandError | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(stdout);
    };
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish(new CommandError(`${file} ${args.join(' ')}`, null, typeof error.code === 'string' ? `${error.code} (is ${file} installed?)` : error.message, error)),
    );
    // 'close': the exit code with every byte of its output read.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) =>
      finish(code === 0 ? undefined : new CommandError(`${file} ${args.join(' ')}`, code, stderr || (signal ? `killed by ${signal}` : '')),
    ));
  });
}
