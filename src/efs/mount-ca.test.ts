import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../identity/sealer.js';
import { MemoryStore } from '../store/memory.js';
import { certificateRequest, installCertificate } from '../storage/tls-identity.js';
import { efsKeys } from '../state/efs-keys.js';
import { MountCa } from './mount-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-mount-ca-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("berth's CA for EFS transit encryption", () => {
  it("signs a host's request with one CA for every replica, keeping its key sealed and the host's key on the host", async () => {
    const store = new MemoryStore();
    const sealer = new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]);
    const [a, b] = [new MountCa({ store, sealer, now: () => 0 }), new MountCa({ store, sealer, now: () => 0 })];
    const host = join(dir, 'host');
    const csr = await certificateRequest(host);
    expect(statSync(join(host, 'own.key')).mode & 0o777).toBe(0o600);
    const [one, two] = await Promise.all([a.issue(csr, 'berth-storage-h1'), b.issue(csr, 'berth-efs-client')]);
    expect(one.CaCertificate).toBe(two.CaCertificate);
    const files = await installCertificate(host, one);
    expect(execFileSync('openssl', ['verify', '-CAfile', files.ca, files.cert], { encoding: 'utf8' })).toContain('OK');
    expect(execFileSync('openssl', ['x509', '-in', files.cert, '-noout', '-subject'], { encoding: 'utf8' })).toContain('CN = berth-storage-h1');
    // The certificate is for the host's own key.
    const pub = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });
    expect(pub(['x509', '-in', files.cert, '-noout', '-pubkey'])).toBe(pub(['pkey', '-in', files.key, '-pubout']));
    // The CA's key is sealed in the store, not in clear.
    const stored = (await store.get(efsKeys.mountCa()))!.value;
    expect(stored).not.toContain('PRIVATE KEY');
    expect(readFileSync(files.key, 'utf8')).toContain('PRIVATE KEY');
  });

  it('refuses what is not a certificate request, or one whose signature does not hold', async () => {
    const ca = new MountCa({ store: new MemoryStore(), sealer: new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]), now: () => 0 });
    await expect(ca.issue('hello', 'x')).rejects.toMatchObject({ type: 'BadRequest' });
    const csr = await certificateRequest(join(dir, 'other'));
    const lines = csr.trim().split('\n');
    const body = lines.slice(1, -1).join('');
    const broken = `${lines[0]}\n${body.slice(0, 100)}${body[100] === 'A' ? 'B' : 'A'}${body.slice(101)}\n${lines.at(-1)}\n`;
    await expect(ca.issue(broken, 'x')).rejects.toMatchObject({ type: 'BadRequest' });
  });
});
