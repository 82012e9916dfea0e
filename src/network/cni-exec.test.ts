import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sh, uniqueTag } from '../testing/network-fixtures.js';
import { addNetwork } from './cni-chain.js';
import { pluginExec } from './cni-exec.js';
import { CniPluginError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cni-exec-'));
const netns = `berth-exec-${uniqueTag()}`;
const netnsPath = `/var/run/netns/${netns}`;
const exec = pluginExec({ pluginDirs: ['/usr/lib/cni'], timeoutMs: 10_000 });
const target = { containerId: 'exec-test', netnsPath, ifName: 'lo' };

afterAll(async () => {
  await sh('ip', ['netns', 'delete', netns]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('running the real plugin binaries', () => {
  it('runs a chain and returns the last result (loopback in a real namespace)', async () => {
    await sh('ip', ['netns', 'add', netns]);
    const result = await addNetwork(exec, { cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] }, target, {});
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.interfaces).toEqual([expect.objectContaining({ name: 'lo', sandbox: netnsPath })]);
    expect(await sh('ip', ['-n', netns, '-o', 'link', 'show', 'lo'])).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    // DEL and CHECK answer nothing on success.
    await expect(exec('loopback', 'DEL', target, JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }))).resolves.toBeUndefined();
  });

  it("turns a plugin's CNI error object into a CniPluginError with its code, msg and details", async () => {
    const failure = exec('loopback', 'ADD', target, JSON.stringify({ cniVersion: '9.9.9', name: 'lo', type: 'loopback' }));
    await expect(failure).rejects.toBeInstanceOf(CniPluginError);
    await expect(failure).rejects.toMatchObject({ plugin: 'loopback', command: 'ADD', cniCode: 1, msg: 'incompatible CNI versions', details: expect.stringContaining('9.9.9') });
    await expect(exec('loopback', 'ADD', target, 'not json')).rejects.toMatchObject({ cniCode: 6 });
  });

  it('names a plugin that is not installed', async () => {
    await expect(exec('no-such-plugin', 'ADD', target, '{}')).rejects.toThrow('no executable plugin named "no-such-plugin" in /usr/lib/cni');
  });

  it('kills a plugin that runs past the time limit', async () => {
    // Not a CNI plugin: a stand-in that does not answer in time, to exercise the invoker's own time limit.
    // Its child `sleep` keeps the output pipe open after the script itself is killed.
    writeFileSync(join(dir, 'stuck'), '#!/bin/sh\nsleep 3\n');
    chmodSync(join(dir, 'stuck'), 0o755);
    const started = Date.now();
    const slow = pluginExec({ pluginDirs: [dir], timeoutMs: 300 })('stuck', 'ADD', target, '{}');
    await expect(slow).rejects.toThrow('CNI plugin stuck ADD failed: killed after 300 ms without finishing');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
