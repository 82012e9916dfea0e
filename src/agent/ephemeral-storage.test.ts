import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMountPoint } from '../image/overlay.js';
import { LoopTaskStorage, mkfsArgs } from './ephemeral-storage.js';

// Real loop devices and ext4 (root, losetup, mkfs.ext4): the test fails loudly without them.
const dir = mkdtempSync(join(tmpdir(), 'berth-ephemeral-'));
const storage = new LoopTaskStorage(join(dir, 'ephemeral'));
afterAll(async () => {
  for (const id of await storage.list()) await storage.release(id);
  rmSync(dir, { recursive: true, force: true });
});
const loopsOf = (image: string) => execFileSync('losetup', ['-n', '-O', 'NAME', '-j', image], { encoding: 'utf8' }).trim();

describe('LoopTaskStorage', () => {
  it('makes ext4 in a file without prompting, with nothing kept back for root', () => {
    expect(mkfsArgs('/x.img')).toEqual(['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', '/x.img']);
  });

  it("gives a task a filesystem of its size, where a write past it fails with ENOSPC; released, nothing is left", async () => {
    const [a, b] = await Promise.all([storage.prepare('task1', 1), storage.prepare('task1', 1)]);
    expect(a).toBe(join(dir, 'ephemeral', 'task1'));
    expect(b).toBe(a);
    expect(await isMountPoint(a)).toBe(true);
    const fs = statfsSync(a);
    expect(fs.blocks * fs.bsize).toBeGreaterThan(0.9 * 2 ** 30);
    expect(fs.blocks * fs.bsize).toBeLessThanOrEqual(2 ** 30);
    const image = `${a}.img`;
    expect(loopsOf(image)).toMatch(/^\/dev\/loop\d+$/);
    // The file is sparse: it takes far less than its size.
    expect(Number(execFileSync('du', ['-k', image], { encoding: 'utf8' }).split('\t')[0])).toBeLessThan(100 * 1024);
    // Space taken at once (no data written, so quick on a busy host): past the size is refused, within it is not.
    execFileSync('fallocate', ['-l', '900M', join(a, 'fits')]);
    expect(() => execFileSync('fallocate', ['-l', '200M', join(a, 'big')], { stdio: 'pipe' })).toThrow(/No space left on device/);
    expect(() => writeFileSync(join(a, 'more'), Buffer.alloc(200 * 2 ** 20))).toThrow(/ENOSPC/);
    expect(await storage.list()).toEqual(['task1']);

    await storage.release('task1');
    expect(await isMountPoint(a)).toBe(false);
    expect(existsSync(image)).toBe(false);
    expect(existsSync(a)).toBe(false);
    expect(loopsOf(image)).toBe('');
    expect(await storage.list()).toEqual([]);
    // Idempotent.
    await storage.release('task1');
  });

  it('refuses a task id that is not a file name, and a size that is not whole GiB', async () => {
    expect(() => storage.prepare('../etc', 21)).toThrow(/invalid task id/);
    expect(() => storage.prepare('task2', 0.5)).toThrow(/whole number of GiB/);
  });
});
