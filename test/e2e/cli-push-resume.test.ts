/**
 * `berth push` when the network fails it: the built CLI against a real `berth server` whose registry is reached
 * through a proxy in this test (the server's `--registry-host` names the proxy, so GetAuthorizationToken sends the
 * CLI there). The proxy passes requests on as they came and records them; told to, it cuts a layer upload's PUT
 * after part of its body. A cut upload is tried again and the push completes; a push that gave up is run again
 * and sends only what is missing; a blob another repository has is mounted, not sent.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, type BuiltImage } from '../../src/testing/busybox-image.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { berthPiped, peopleEnv } from './support/people-cli.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  /** Body bytes that reached the server. */
  bytes: number;
  cut: boolean;
}

/** The proxy: every request passed to `target` untouched (Host too: the CLI's signatures stay valid). */
function startProxy(): Promise<{ server: Server; port: number; seen: Seen[]; cutPuts: { count: number }; setTarget(port: number): void }> {
  const seen: Seen[] = [];
  const cutPuts = { count: 0 };
  let target = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const entry: Seen = { method: req.method ?? '', path: req.url ?? '', bytes: 0, cut: false };
    seen.push(entry);
    // Only a layer's upload is cut (over 64 KiB: not a config), the number of times asked.
    const cut = req.method === 'PUT' && entry.path.includes('/blobs/uploads/') && Number(req.headers['content-length']) > 65_536 && cutPuts.count > 0;
    if (cut) cutPuts.count--;
    const out = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      entry.bytes += chunk.length;
      // A connection lost mid-upload: some bytes went on, then both sides are dropped.
      if (cut && entry.bytes > 1024 && !entry.cut) {
        entry.cut = true;
        out.destroy();
        req.socket.destroy();
      }
    });
    req.pipe(out);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen, cutPuts, setTarget: (p) => (target = p) })),
  );
}

describe('berth push: retried, resumed, mounted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-push-resume-'));
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let server: BerthServerProcess;
  let image: BuiltImage;
  let env: NodeJS.ProcessEnv;
  /** The blob uploads' PUTs the proxy saw, by digest. */
  const puts = () => proxy.seen.filter((s) => s.method === 'PUT' && s.path.includes('/blobs/uploads/')).map((s) => ({ digest: new URL(s.path, 'http://x').searchParams.get('digest'), cut: s.cut }));

  beforeAll(async () => {
    proxy = await startProxy();
    server = await startBerthServer(join(dir, 'server'), ['--registry-host', `127.0.0.1:${proxy.port}`]);
    proxy.setTarget(Number(new URL(server.url).port));
    env = peopleEnv(server);
    image = await buildBusyboxImage(join(dir, 'layout'), 'v1', { cmd: ['sleep', '3600'], extraLayer: { data: randomBytes(256 * 1024) } });
  }, 120_000);

  afterAll(async () => {
    proxy?.server.close();
    await server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('an upload cut mid-body is tried again, and the push completes', async () => {
    proxy.cutPuts.count = 1;
    proxy.seen.length = 0;
    const run = await berthPiped(['push', image.layoutDir, 'app:v1'], env, 120_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^layer [0-9a-f]{12}: .*; trying again in [0-9.]+s \(try 2\)$/m);
    expect(run.stdout).toContain(`✓ pushed 127.0.0.1:${proxy.port}/app:v1 (${image.manifestDigest})`);
    const sent = puts();
    const blobs = [image.configDigest, ...image.layerDigests];
    // Each blob sent once whole; the one that was cut, once more.
    expect(sent.filter((p) => p.cut)).toHaveLength(1);
    expect(sent.filter((p) => !p.cut).map((p) => p.digest).sort()).toEqual([...blobs].sort());
  }, 120_000);

  it('a push that gave up sends, when run again, only the blobs that are missing', async () => {
    // The same busybox layer as v1; its own config, and a layer of its own (256 KiB).
    const v2 = await buildBusyboxImage(join(dir, 'layout-v2'), 'v2', { cmd: ['sleep', '3600'], extraLayer: { data: randomBytes(256 * 1024) } });
    // Every try of its own layer cut: the push ends with the connection's error, non-zero.
    proxy.cutPuts.count = 100;
    proxy.seen.length = 0;
    const failed = await berthPiped(['push', v2.layoutDir, 'app:v2'], env, 120_000);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout.match(/trying again/g)).toHaveLength(4);
    // Its config went whole (too small to be cut); then five tries of its layer, each cut.
    expect(puts().filter((p) => !p.cut).map((p) => p.digest)).toEqual([v2.configDigest]);
    const tried = puts().filter((p) => p.cut);
    expect(tried).toHaveLength(5);
    expect(new Set(tried.map((p) => p.digest)).size).toBe(1);
    const missing = tried[0]!.digest;
    expect(missing).toBe(v2.layerDigests[1]);
    proxy.cutPuts.count = 0;
    proxy.seen.length = 0;
    const again = await berthPiped(['push', v2.layoutDir, 'app:v2', '--output', 'json'], env, 120_000);
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as { blobs: { digest: string; pushed: boolean }[] };
    // Neither the layer app:v1 brought nor the config the failed push sent is sent again: only the layer it could not.
    expect(result.blobs.filter((b) => b.pushed).map((b) => b.digest)).toEqual([missing]);
    expect(puts().map((p) => p.digest)).toEqual([missing]);
  }, 180_000);

  it('a blob another repository has is mounted, not sent', async () => {
    proxy.seen.length = 0;
    const run = await berthPiped(['push', image.layoutDir, 'other:v1', '--output', 'json'], env, 120_000);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { blobs: { digest: string; pushed: boolean; mountedFrom?: string }[] };
    expect(result.blobs.map((b) => [b.pushed, b.mountedFrom])).toEqual(result.blobs.map(() => [false, 'app']));
    expect(puts()).toEqual([]);
    expect(proxy.seen.filter((s) => s.method === 'POST' && s.path.includes('mount=')).length).toBe(result.blobs.length);
  }, 120_000);
});
