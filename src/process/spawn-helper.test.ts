import type { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SpawnHelper, type HelperChild } from './spawn-helper.js';

const helper = SpawnHelper.start();
afterAll(() => helper.close());

/** Everything a child printed and how it ended. */
function outcome(child: HelperChild) {
  const out: Record<number, string> = {};
  child.stdio.forEach((s, fd) => {
    if (s && 'setEncoding' in s && fd > 0) s.on('data', (d: Buffer) => (out[fd] = (out[fd] ?? '') + d.toString()));
  });
  return new Promise<{ code: number | null; signal: string | null; out: Record<number, string> }>((resolve) =>
    child.once('close', (code: number | null, signal: string | null) => resolve({ code, signal, out })),
  );
}

describe('spawn helper', () => {
  it('runs a child with env, cwd and stdin, relaying stdout, stderr and its exit code', async () => {
    const child = helper.spawn('/bin/sh', ['-c', 'echo "$FOO $(pwd)"; echo err >&2; cat; exit 3'], { env: { FOO: 'bar', PATH: '/bin:/usr/bin' }, cwd: '/tmp', stdio: ['pipe', 'pipe', 'pipe'] });
    const spawned = new Promise<number | undefined>((resolve) => child.once('spawn', () => resolve(child.pid)));
    const done = outcome(child);
    child.stdin!.end('from stdin\n');
    expect(await spawned).toBeGreaterThan(0);
    expect(await done).toEqual({ code: 3, signal: null, out: { 1: 'bar /tmp\nfrom stdin\n', 2: 'err\n' } });
  });

  it('extra pipes: one read (fd 3), one written (fd 4), as conmon uses them', async () => {
    const child = helper.spawn('/bin/sh', ['-c', 'read line <&4; echo "got $line" >&3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], written: [4] });
    const done = outcome(child);
    (child.stdio[4] as Writable).end('go\n');
    expect((await done).out[3]).toBe('got go\n');
  });

  it('handed-over pipes: read and written by the caller directly, and not ended with the first process', async () => {
    // The shell's child keeps fd 3 after the shell exits, as conmon's daemon keeps the sync pipe.
    const child = helper.spawn('/bin/sh', ['-c', 'read line <&4; (sleep 0.3; echo "got $line" >&3) & exit 0'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      written: [4],
      handOver: [3, 4],
    });
    let text = '';
    const ended = new Promise<void>((resolve) => {
      (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (text += d.toString()));
      (child.stdio[3] as NodeJS.ReadableStream).on('end', () => resolve());
    });
    await new Promise((r) => child.once('spawn', r));
    (child.stdio[4] as Writable).end('go\n');
    await new Promise((r) => child.once('close', r));
    await ended;
    expect(text).toBe('got go\n');
  });

  it('kills a child on request, and a missing program is an error', async () => {
    const sleeper = helper.spawn('/bin/sleep', ['60'], { stdio: ['ignore', 'ignore', 'ignore'] });
    await new Promise((r) => sleeper.once('spawn', r));
    const done = outcome(sleeper);
    sleeper.kill('SIGKILL');
    expect(await done).toMatchObject({ code: null, signal: 'SIGKILL' });

    const missing = helper.spawn('/nonexistent/program', [], { stdio: ['ignore', 'ignore', 'ignore'] });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => missing.once('error', resolve));
    expect(error.code).toBe('ENOENT');
  });

  it('is not the caller: children are forked by the helper process', async () => {
    const child = helper.spawn('/bin/sh', ['-c', 'echo $PPID'], { stdio: ['ignore', 'pipe', 'ignore'] });
    expect(Number((await outcome(child)).out[1])).toBe(helper.pid);
  });

  it('outlives SIGINT and SIGTERM sent to its process group, so a stop after Ctrl-C can still run processes', async () => {
    process.kill(helper.pid!, 'SIGINT');
    process.kill(helper.pid!, 'SIGTERM');
    const child = helper.spawn('/bin/sh', ['-c', 'echo still here'], { stdio: ['ignore', 'pipe', 'ignore'] });
    expect((await outcome(child)).out[1]).toBe('still here\n');
  });
});
