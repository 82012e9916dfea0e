import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_MOUNT_OPTIONS, isMountPoint, mountOverlay, mountPoints, overlayOptions, unmount } from './overlay.js';

const work = mkdtempSync(join(tmpdir(), 'berth-overlay-test-'));
afterAll(async () => {
  await unmount(join(work, 'merged'));
  rmSync(work, { recursive: true, force: true });
});

const shortName = (i: number) => `l/${i.toString(16).padStart(20, '0')}`;

describe('overlay mounts', () => {
  it('fit 127 layers (Docker\'s ceiling) in one page of options with short names, and refuse what cannot fit', () => {
    const spec = { cwd: '/', upperdir: `containers/${'c'.repeat(128)}/upper`, workdir: `containers/${'c'.repeat(128)}/work`, target: '/x' };
    expect(overlayOptions({ ...spec, lowerdirs: Array.from({ length: 127 }, (_, i) => shortName(i)) }).length).toBeLessThan(MAX_MOUNT_OPTIONS);
    const absolute = Array.from({ length: 127 }, (_, i) => `/var/lib/berth/images/layers/sha256-${i.toString(16).padStart(64, '0')}`);
    expect(() => overlayOptions({ ...spec, lowerdirs: absolute })).toThrow(/overlay of 127 layers needs \d+ bytes of mount options; the kernel takes 4095/);
    expect(() => overlayOptions({ ...spec, lowerdirs: ['a,b'] })).toThrow(/cannot carry/);
    expect(() => overlayOptions({ ...spec, lowerdirs: [] })).toThrow(/at least one/);
  });

  it('mount 120 layers through short relative names, top layer first, and unmount', async () => {
    const lowerdirs: string[] = [];
    mkdirSync(join(work, 'l'));
    for (let i = 0; i < 120; i++) {
      const dir = join(work, 'layers', `sha256-${i.toString(16).padStart(64, '0')}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `only-in-${i}`), String(i));
      writeFileSync(join(dir, 'shared'), String(i));
      symlinkSync(join('..', 'layers', `sha256-${i.toString(16).padStart(64, '0')}`), join(work, shortName(i)));
      lowerdirs.unshift(shortName(i)); // layer 119 is the top
    }
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(work, d));
    const target = join(work, 'merged');
    await mountOverlay({ cwd: work, lowerdirs, upperdir: 'upper', workdir: 'work', target });
    expect(await isMountPoint(target)).toBe(true);
    expect(readFileSync(join(target, 'shared'), 'utf8')).toBe('119');
    expect(readFileSync(join(target, 'only-in-0'), 'utf8')).toBe('0');
    await unmount(target);
    expect(await isMountPoint(target)).toBe(false);
    await unmount(target); // idempotent
  });

  it('read mount points from mountinfo, decoding escapes', () => {
    const info = '36 35 98:0 /mnt1 /mnt/with\\040space rw - ext3 /dev/root rw\n37 35 0:1 / /proc rw - proc proc rw\n';
    expect(mountPoints(info)).toEqual(['/mnt/with space', '/proc']);
  });
});
