import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { shellQuote, STDERR, STDOUT } from '../../model/exec-stream.js';

export interface ExecProcessOptions {
  /** The runtime's command line (Runtime.execCommandLine). */
  readonly file: string;
  readonly args: readonly string[];
  readonly tty: boolean;
  readonly cols?: number;
  readonly rows?: number;
  /** Where the terminal's name is written (tty sessions): resizes set that terminal's size. */
  readonly ttyFile: string;
  /** The command's pid file, and whether that pid is the host's (it is killed when the session is dropped). */
  readonly pidFile: string;
  readonly hostPid: boolean;
  readonly onOutput: (channel: typeof STDOUT | typeof STDERR, data: Buffer) => void;
  readonly onExit: (exitCode: number) => void;
}

/** A terminal of this size when the client gave none. */
const DEFAULT_SIZE = { cols: 80, rows: 24 };

/**
 * One ECS Exec command on the host: the runtime's `exec` in the foreground, with pipes, or with a terminal.
 *
 * Node cannot open a pseudo-terminal itself, so a terminal session runs under util-linux's `script`, which gives the
 * runtime a terminal of its own (runc then gives the container's process another and copies between them, setting
 * its own to raw). That terminal's name is written to `ttyFile` first and its size set; a resize sets it again with
 * `stty -F`, which makes the kernel send SIGWINCH to runc, which resizes the container's terminal to match. `script -e`
 * exits with the command's exit code.
 */
export class ExecProcess {
  private readonly child: ChildProcess;
  private resizing: Promise<void> = Promise.resolve();
  private exited = false;

  constructor(private readonly o: ExecProcessOptions) {
    if (o.tty) {
      const size = o.cols !== undefined && o.rows !== undefined ? { cols: o.cols, rows: o.rows } : DEFAULT_SIZE;
      const line = `tty > ${shellQuote(o.ttyFile)} && stty rows ${size.rows} cols ${size.cols} && exec ${[o.file, ...o.args].map(shellQuote).join(' ')}`;
      this.child = spawn('script', ['-q', '-e', '-c', line, '/dev/null'], { stdio: 'pipe', env: { ...process.env, SHELL: '/bin/sh' } });
    } else {
      this.child = spawn(o.file, [...o.args], { stdio: 'pipe' });
    }
    this.child.stdout!.on('data', (d: Buffer) => o.onOutput(STDOUT, d));
    this.child.stderr!.on('data', (d: Buffer) => o.onOutput(STDERR, d));
    // A closed stdin (the command ended or never reads) is not an error of the session.
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (err) => {
      o.onOutput(STDERR, Buffer.from(`berth: cannot run the command: ${err.message}\n`));
      this.finish(126);
    });
    // After its output is read to the end: 'close', not 'exit'.
    this.child.on('close', (code, signal) => this.finish(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 9) : 255)));
  }

  /** Streams to pause while the session's socket is behind. */
  get outputs(): NodeJS.ReadableStream[] {
    return [this.child.stdout!, this.child.stderr!];
  }

  write(data: Buffer): void {
    if (!this.exited) this.child.stdin!.write(data);
  }

  endInput(): void {
    if (!this.exited) this.child.stdin!.end();
  }

  /** Set the session's terminal to this size (one resize at a time, in order). No-op without a terminal. */
  resize(cols: number, rows: number): void {
    if (!this.o.tty) return;
    this.resizing = this.resizing.then(async () => {
      const tty = await this.terminalName();
      if (!tty || this.exited) return;
      await new Promise<void>((resolve) => {
        const stty = spawn('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore' });
        stty.on('error', () => resolve());
        stty.on('close', () => resolve());
      });
    });
  }

  /** End the command now (the client left): the container's process first, then the runtime's. */
  async kill(): Promise<void> {
    if (this.exited) return;
    if (this.o.hostPid) {
      const pid = Number((await readFile(this.o.pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    this.child.kill('SIGKILL');
  }

  /** The terminal's name, once the wrapper wrote it (it does before the runtime starts). */
  private async terminalName(): Promise<string | undefined> {
    for (let i = 0; i < 50 && !this.exited; i++) {
      const name = (await readFile(this.o.ttyFile, 'utf8').catch(() => '')).trim();
      if (name.startsWith('/dev/')) return name;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  private finish(exitCode: number): void {
    if (this.exited) return;
    this.exited = true;
    void rm(this.o.ttyFile, { force: true }).catch(() => {});
    void rm(this.o.pidFile, { force: true }).catch(() => {});
    this.o.onExit(exitCode);
  }
}
