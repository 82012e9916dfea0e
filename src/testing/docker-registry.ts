import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** CNCF distribution, from Debian's docker-registry package. */
export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export interface LoopbackRegistry {
  /** `127.0.0.1:PORT` (or the given address), the registry host as it appears in image names. */
  readonly host: string;
  readonly rootDir: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on `address` (the registry binds it itself). */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Bearer-token authentication: distribution trusts JWTs signed by a key whose certificate is in `rootCertBundle`. */
export interface TokenAuthConfig {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Path of a PEM file with the token signer's certificate. */
  readonly rootCertBundle: string;
}

/**
 * Start CNCF distribution on a loopback port with filesystem storage in a temporary directory.
 * `htpasswd` (an htpasswd file's contents, bcrypt) turns on basic authentication; `token` bearer-token
 * authentication against a token server (see registry-token-server.ts). `address` binds another local
 * address than 127.0.0.1 (an IPv4 address of this machine); `tls` serves HTTPS with that key and certificate.
 */
export async function startDockerRegistry(
  options: { htpasswd?: string; token?: TokenAuthConfig; address?: string; tls?: { certPath: string; keyPath: string } } = {},
): Promise<LoopbackRegistry> {
  const rootDir = mkdtempSync(join(tmpdir(), 'berth-distribution-'));
  const address = options.address ?? '127.0.0.1';
  const port = await freePort(address);
  const tls = options.tls ? `  tls:\n    certificate: ${options.tls.certPath}\n    key: ${options.tls.keyPath}\n` : '';
  const { token } = options;
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(rootDir, 'htpasswd')}\n`
    : token
      ? `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.rootCertBundle}\n`
      : '';
  if (options.htpasswd) writeFileSync(join(rootDir, 'htpasswd'), options.htpasswd);
  writeFileSync(
    join(rootDir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(rootDir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${address}:${port}\n${tls}${auth}`,
  );
  const child: ChildProcess = spawn(DOCKER_REGISTRY, ['serve', join(rootDir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `${address}:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const status = await probe(host, !!options.tls);
      if (status === 200 || status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    rootDir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(rootDir, { recursive: true, force: true });
    },
  };
}

/** The status of GET /v2/ (over HTTPS without verifying the test certificate when `tls`). */
async function probe(host: string, tls: boolean): Promise<number> {
  if (!tls) return (await fetch(`http://${host}/v2/`)).status;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`https://${host}/v2/`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}
