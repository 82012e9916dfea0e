import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from './busybox-image.js';
import { startDockerRegistry } from './docker-registry.js';

const run = promisify(execFile);

describe('test images built from busybox-static', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-img-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are valid OCI layouts that skopeo pushes to CNCF distribution unchanged', async () => {
    const image = await buildBusyboxImage(join(dir, 'layout'), 'v1', { cmd: ['httpd', '-f'], extraLayer: { 'etc/motd': 'hi' }, whiteouts: ['var/www/index.html'] });
    const registry = await startDockerRegistry();
    try {
      await pushImage(image, `${registry.host}/test/busybox:v1`);
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/test/busybox:v1`]);
      const manifest = JSON.parse(stdout);
      expect(manifest.layers).toHaveLength(2);
      expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(image.layerDigests);
      const inspected = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/test/busybox:v1`])).stdout);
      expect(inspected.Digest).toBe(image.manifestDigest);
    } finally {
      await registry.stop();
    }
  });
});
