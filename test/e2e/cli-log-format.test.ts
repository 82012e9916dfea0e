/**
 * `berth server`'s log lines as a person and a program get them: readable on a terminal (a pseudo-terminal from
 * util-linux `script`), coloured unless NO_COLOR; pino's JSON through a pipe, or on a terminal with --log-format json.
 * The same module serves `up`, `agent` and `lb` (src/cli/log-output.ts). Each run waits for the server's first info
 * line (its queues opening) and then stops it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { berthPiped, CLI } from './support/people-cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Start `berth server` (on a terminal or through a pipe), read its stdout until `until` matches, stop it. */
function serverOutput(options: { terminal: boolean; args?: string[]; env?: NodeJS.ProcessEnv }, until: RegExp): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-logfmt-'));
  dirs.push(dir);
  const argv = [CLI, 'server', '--listen', '127.0.0.1:0', '--data-dir', dir, ...(options.args ?? [])];
  const quoted = [process.execPath, ...argv].map((a) => `'${a}'`).join(' ');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...options.env };
  const child = options.terminal ? spawn('script', ['-qec', `exec ${quoted}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'ignore'] }) : spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no line matching ${until} in 30 s; got:\n${out}`));
    }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!until.test(out)) return;
      clearTimeout(timer);
      child.once('exit', () => resolve(out));
      child.kill('SIGTERM');
    });
  });
}

describe('berth server log lines', () => {
  it('on a terminal: time, level, message and fields, in colour', async () => {
    const out = await serverOutput({ terminal: true }, /queues opened[^\n]*\n/);
    expect(out).toMatch(/\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[0m \x1b\[32mINFO \x1b\[0m queues opened \x1b\[2mcomponent=\x1b\[0mqueues/);
    expect(out).not.toMatch(/"level":/);
  });

  it('on a terminal with NO_COLOR: the same lines, plain', async () => {
    const out = await serverOutput({ terminal: true, env: { NO_COLOR: '1' } }, /queues opened[^\n]*\n/);
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  queues opened component=queues queues=\d+/m);
    expect(out).not.toMatch(/\x1b\[/);
  });

  it('through a pipe, and on a terminal with --log-format json: one JSON object a line', async () => {
    const piped = await serverOutput({ terminal: false }, /queues opened[^\n]*\n/);
    const line = piped.split('\n').find((l) => l.includes('queues opened'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: 'queues opened', component: 'queues' });
    const forced = await serverOutput({ terminal: true, args: ['--log-format', 'json'] }, /queues opened[^\n]*\n/);
    expect(JSON.parse(forced.split(/\r?\n/).find((l) => l.includes('queues opened'))!)).toMatchObject({ msg: 'queues opened' });
  });

  it('refuses a format it does not know, naming the choices', async () => {
    const run = await berthPiped(['server', '--log-format', 'yaml'], { PATH: process.env.PATH });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/argument 'yaml' is invalid. Allowed choices are json, text/);
  });
});
