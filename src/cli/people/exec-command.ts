import type { Command } from 'commander';
import { DEFAULT_EXEC_COMMAND, parseControl, parseOutputFrame, shellQuote, STDERR, type ExecControl } from '../../model/exec-stream.js';
import { CliUsageError, contextOf, ecsClient, explain, peopleCommand } from './common.js';

/** ExecuteCommand's `command` for the words given after `--`: each quoted, so berth splits them back as they were. */
export function commandLine(words: readonly string[]): string {
  return words.length > 0 ? words.map(shellQuote).join(' ') : DEFAULT_EXEC_COMMAND;
}

interface ExecFlags {
  cluster?: string;
  endpoint?: string;
  region?: string;
  output: 'table' | 'json';
  container?: string;
}

/**
 * `berth exec TASK [--container C] [-- CMD…]`: ECS Exec's client. ExecuteCommand grants the session; its stream
 * (model/exec-stream.ts) then carries stdin, output, terminal resizes and the exit code, which becomes this
 * command's exit status. With a terminal on stdin and stdout the session gets one (raw mode here, resized on
 * SIGWINCH); with pipes the command's stdout and stderr come back apart and stdin's end is passed on.
 */
export function execCommand(): Command {
  return peopleCommand('exec', 'run a command in a task\'s container (ECS Exec); default /bin/sh')
    .argument('<task>', 'the task id or ARN')
    .argument('[command...]', 'the command and its arguments (after --)')
    .option('--container <name>', 'the container (needed when the task has several)')
    .addHelpText('after', '\nThe task must have been started with enableExecuteCommand (aws ecs run-task --enable-execute-command).')
    .action(async (task: string, words: string[], flags: ExecFlags) => {
      const ctx = contextOf(flags);
      const sdk = await import('@aws-sdk/client-ecs');
      const ecs = await ecsClient(ctx);
      let session;
      try {
        ({ session } = await ecs.send(
          new sdk.ExecuteCommandCommand({ cluster: ctx.settings.cluster, task, interactive: true, command: commandLine(words), ...(flags.container ? { container: flags.container } : {}) }),
        ));
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        ecs.destroy();
      }
      if (!session?.streamUrl || !session.tokenValue) throw new Error('ExecuteCommand answered without a session');
      process.exitCode = await runSession(session.streamUrl, session.tokenValue);
    });
}

/** Pipe this process's stdio to the session's stream until the command ends; resolves with its exit code. */
async function runSession(streamUrl: string, token: string): Promise<number> {
  const { default: WebSocket } = await import('ws');
  const stdin = process.stdin;
  const stdout = process.stdout;
  const tty = Boolean(stdin.isTTY && stdout.isTTY);
  const ws = new WebSocket(streamUrl);
  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  let ended: ExecControl | undefined;
  return new Promise<number>((resolve, reject) => {
    const restore = () => {
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdout.off('resize', onResize);
    };
    const onResize = () => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'resize', ...size() } satisfies ExecControl));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'open', token, tty, ...(tty ? size() : {}) } satisfies ExecControl));
      if (tty) {
        stdin.setRawMode(true);
        stdout.on('resize', onResize);
      }
      stdin.on('data', (d: Buffer) => ws.send(d, { binary: true }));
      stdin.on('end', () => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'eof' } satisfies ExecControl)));
      stdin.resume();
    });
    ws.on('message', (data, binary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (binary) {
        const out = parseOutputFrame(buf);
        if (out) (out.channel === STDERR ? process.stderr : stdout).write(out.data);
        return;
      }
      const control = parseControl(buf.toString());
      if (control?.type === 'exit' || control?.type === 'error') ended = control;
    });
    ws.on('error', (err) => {
      restore();
      reject(new CliUsageError(`cannot open the session's stream at ${streamUrl}: ${err.message}`));
    });
    ws.on('close', () => {
      restore();
      if (ended?.type === 'exit') return resolve(ended.exitCode);
      process.stderr.write(`\r\nberth exec: ${ended?.type === 'error' ? ended.message : 'the session closed without an exit code'}\n`);
      resolve(255);
    });
  });
}
