import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MountCa } from '../efs/mount-ca.js';
import { KeyRingSealer } from '../identity/sealer.js';
import { renewalDueAt } from '../storage/certificate-renewal.js';
import { tlsFiles } from '../storage/tls-identity.js';
import { MemoryStore } from '../store/memory.js';
import { MountCertificate } from './mount-certificate.js';

const root = mkdtempSync(join(tmpdir(), 'berth-mount-cert-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DAY = 86_400_000;
const ca = new MountCa({ store: new MemoryStore(), sealer: new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]), now: () => 0 });

function agent(dir: string) {
  const clock = { now: Date.now() };
  const issued: string[] = [];
  let refuse = false;
  const certificate = new MountCertificate({
    dir,
    now: () => clock.now,
    issue: async (csr) => {
      if (refuse) throw new Error('control plane unreachable');
      issued.push(csr);
      return ca.issue(csr, 'berth-agent-ci1');
    },
  });
  const serial = () => new X509Certificate(readFileSync(tlsFiles(dir).cert)).serialNumber;
  return { certificate, clock, issued, serial, refuse: (on: boolean) => (refuse = on) };
}

describe("the agent's EFS mount certificate", () => {
  it('is issued before the first mount, reused by later mounts, and renewed between mounts at two thirds of its life', async () => {
    const a = agent(join(root, 'a'));
    // An agent that never mounted asks for nothing between mounts.
    expect(await a.certificate.renewIfDue()).toBe(false);
    expect(a.issued).toHaveLength(0);

    await a.certificate.ensure();
    const first = new X509Certificate(readFileSync(tlsFiles(join(root, 'a')).cert));
    const from = Date.parse(first.validFrom);
    expect(a.certificate.renewalDueAt).toBe(from + 20 * DAY);
    // Mounts on days 1 and 19: the same certificate, no new request.
    for (const day of [1, 19]) {
      a.clock.now = from + day * DAY;
      await a.certificate.ensure();
      expect(await a.certificate.renewIfDue()).toBe(false);
    }
    expect(a.issued).toHaveLength(1);

    // Day 20, no mount: the timer renews; a refusal leaves it due and the next tick retries.
    a.clock.now = from + 20 * DAY + 1;
    a.refuse(true);
    await expect(a.certificate.renewIfDue()).rejects.toThrow(/unreachable/);
    expect(a.serial()).toBe(first.serialNumber);
    a.refuse(false);
    expect(await a.certificate.renewIfDue()).toBe(true);
    expect(a.serial()).not.toBe(first.serialNumber);
    expect(a.issued).toHaveLength(2);
    // The renewed certificate's own due time is tracked. (Its validity starts at the signer's wall-clock time, not
    // the test's clock, so it cannot be compared with the advanced clock: both certificates are often signed in the
    // same second.)
    expect(a.certificate.renewalDueAt).toBe(renewalDueAt(readFileSync(tlsFiles(join(root, 'a')).cert, 'utf8')));
    expect(a.certificate.renewalDueAt).toBeGreaterThanOrEqual(from + 20 * DAY);
  });

  it("renews a certificate left on disk by the agent's previous run at its first tick, and shares one renewal between a mount and the tick", async () => {
    const dir = join(root, 'b');
    await agent(dir).certificate.ensure();
    const restarted = agent(dir);
    const before = restarted.serial();
    const [tick] = await Promise.all([restarted.certificate.renewIfDue(), restarted.certificate.ensure()]);
    expect(tick).toBe(true);
    expect(restarted.issued).toHaveLength(1);
    expect(restarted.serial()).not.toBe(before);
  });
});
