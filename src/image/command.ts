/**
 * Running the system binaries Node has no API for (mount, umount, mknod, setfattr) with arguments as an
 * array — never through a shell — and failures that carry the tool's own message.
 */
import { execFile } from 'node:child_process';

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

/** Run `file` with `args` and resolve with its stdout; reject with {@link CommandError}. */
export function runCommand(file: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
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
