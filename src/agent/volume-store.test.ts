import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VolumeError } from './task-engine/volumes.js';
import { DirectoryVolumeStore } from './volume-store.js';

describe('the directory volume store', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  const store = new DirectoryVolumeStore(join(root, 'volumes'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gives a task-scoped volume its own empty directory, removed with the task', async () => {
    const plain = await store.resolve('t1', { name: 'scratch' });
    const docker = await store.resolve('t1', { name: 'cache', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } });
    expect(plain).toBe(join(root, 'volumes/tasks/t1/scratch'));
    expect(statSync(docker).isDirectory()).toBe(true);
    expect(await store.resolve('t2', { name: 'scratch' })).not.toBe(plain);
    await store.removeTaskVolumes('t1');
    expect(existsSync(plain) || existsSync(docker)).toBe(false);
    expect(existsSync(join(root, 'volumes/tasks/t2/scratch'))).toBe(true);
  });

  it('keeps a shared volume across tasks, making it only with autoprovision', async () => {
    const shared = { name: 'data', dockerVolumeConfiguration: { scope: 'shared', driver: 'local' } } as const;
    await expect(store.resolve('t3', shared)).rejects.toThrow("shared volume 'data' does not exist on this instance");
    const made = await store.resolve('t3', { ...shared, dockerVolumeConfiguration: { ...shared.dockerVolumeConfiguration, autoprovision: true } });
    await store.removeTaskVolumes('t3');
    expect(existsSync(made)).toBe(true);
    expect(await store.resolve('t4', shared)).toBe(made);
  });

  it('bind-mounts a host path, creating it when missing', async () => {
    const path = join(root, 'host/config');
    expect(await store.resolve('t5', { name: 'config', host: { sourcePath: path } })).toBe(path);
    expect(statSync(path).isDirectory()).toBe(true);
    await store.removeTaskVolumes('t5');
    expect(existsSync(path)).toBe(true);
  });

  it.each([
    [{ name: '../x' }, "invalid volume name '../x'"],
    [{ name: 'rel', host: { sourcePath: 'relative/path' } }, "volume 'rel': host.sourcePath must be absolute"],
    [{ name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }, "volume 'efs': efsVolumeConfiguration is not available on berth"],
    [{ name: 'nfs', dockerVolumeConfiguration: { driver: 'rexray/ebs' } }, "only the 'local' volume driver is available (got 'rexray/ebs')"],
  ])('refuses %j clearly', async (volume, message) => {
    const attempt = store.resolve('t6', volume);
    await expect(attempt).rejects.toBeInstanceOf(VolumeError);
    await expect(attempt).rejects.toThrow(message);
  });
});
