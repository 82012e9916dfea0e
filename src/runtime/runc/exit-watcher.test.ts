import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitWatcher } from './exit-watcher.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-exits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fileCheck = (id: string) => async () => (existsSync(join(dir, id)) ? 'exited' : undefined);

describe('ExitWatcher', () => {
  it('resolves at once when the file is already there', async () => {
    writeFileSync(join(dir, 'early'), '0');
    const watcher = new ExitWatcher(dir, 60_000);
    expect(await watcher.when('early', fileCheck('early'))).toBe('exited');
  });

  it('resolves on the inotify event naming the id, long before the periodic check', async () => {
    const watcher = new ExitWatcher(dir, 60_000);
    const started = Date.now();
    const waiting = watcher.when('evented', fileCheck('evented'));
    writeFileSync(join(dir, 'other'), '0');
    writeFileSync(join(dir, 'evented'), '0');
    expect(await waiting).toBe('exited');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('resolves from the periodic check when no event comes', async () => {
    const watcher = new ExitWatcher(dir, 50);
    let done = false;
    const waiting = watcher.when('silent', async () => (done ? 'exited' : undefined));
    setTimeout(() => (done = true), 100);
    expect(await waiting).toBe('exited');
  });

  it('rejects when the check throws, and refuses a second waiter for the same id', async () => {
    const watcher = new ExitWatcher(dir, 60_000);
    let calls = 0;
    const waiting = watcher.when('broken', async () => {
      if (++calls > 1) throw new Error('gone');
      return undefined;
    });
    expect(() => watcher.when('broken', fileCheck('broken'))).toThrow('already waiting for broken');
    writeFileSync(join(dir, 'broken'), '0');
    await expect(waiting).rejects.toThrow('gone');
  });
});
