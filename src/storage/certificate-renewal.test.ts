import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MountCa } from '../efs/mount-ca.js';
import { KeyRingSealer } from '../identity/sealer.js';
import { MemoryStore } from '../store/memory.js';
import { CertificateRenewal, renewalDueAt } from './certificate-renewal.js';
import { tlsFiles } from './tls-identity.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cert-renewal-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

describe('certificate renewal', () => {
  it('renews at two thirds of the lifetime, keeping the key, with new files in place; a failure stays due', async () => {
    const ca = new MountCa({ store: new MemoryStore(), sealer: new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]), now: () => 0 });
    let now = Date.now();
    let refuse = false;
    let issued = 0;
    const renewal = new CertificateRenewal({
      dir,
      now: () => now,
      issue: async (csr) => {
        if (refuse) throw new Error('control plane unreachable');
        issued++;
        return ca.issue(csr, 'berth-storage-h1');
      },
    });
    expect(await renewal.renewIfDue()).toBe(true);
    const files = tlsFiles(dir);
    const first = new X509Certificate(readFileSync(files.cert));
    const key = readFileSync(files.key, 'utf8');
    const lifetime = Date.parse(first.validTo) - Date.parse(first.validFrom);
    expect(lifetime).toBe(30 * DAY);
    expect(renewal.renewalDueAt).toBe(Date.parse(first.validFrom) + 20 * DAY);

    now = Date.parse(first.validFrom) + 19 * DAY;
    expect(await renewal.renewIfDue()).toBe(false);
    expect(issued).toBe(1);

    now = Date.parse(first.validFrom) + 20 * DAY + 1;
    refuse = true;
    await expect(renewal.renewIfDue()).rejects.toThrow(/unreachable/);
    expect(new X509Certificate(readFileSync(files.cert)).serialNumber).toBe(first.serialNumber);
    refuse = false;
    expect(await renewal.renewIfDue()).toBe(true);
    const second = new X509Certificate(readFileSync(files.cert));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(readFileSync(files.key, 'utf8')).toBe(key);
    expect(second.publicKey.export({ type: 'spki', format: 'pem' })).toBe(first.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(renewal.renewalDueAt).toBe(renewalDueAt(readFileSync(files.cert, 'utf8')));
  });
});
