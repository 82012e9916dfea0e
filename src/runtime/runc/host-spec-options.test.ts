import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostCgroups } from './cgroups.js';
import { DEFAULT_SECCOMP_PROFILE, kernelVersion, loadHostSpecOptions, readKernelConfig } from './host-spec-options.js';
import { seccompForTarget, unsupportedCompatArches } from './seccomp.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-hostspec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const load = async (seccompProfile: string | null, initBinary = '/usr/bin/tini-static') =>
  loadHostSpecOptions({ cgroupParent: '/berth', seccompProfile, initBinary }, await HostCgroups.discover());

describe('loadHostSpecOptions', () => {
  it("reads Debian's copy of Docker's profile and converts it for x86_64", async () => {
    const options = await load(DEFAULT_SECCOMP_PROFILE);
    expect(options.seccomp?.arch).toBe('amd64');
    const oci = seccompForTarget(options.seccomp!.profile, { arch: 'amd64', capabilities: [], kernel: options.seccomp!.kernel });
    expect(oci.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    // What the running kernel's configuration says it cannot run is left out of every container's filter.
    expect(options.seccomp?.unsupportedArches).toEqual(unsupportedCompatArches(await readKernelConfig()));
    expect(oci.defaultAction).toBe('SCMP_ACT_ERRNO');
    const allowed = oci.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW').flatMap((s) => s.names);
    expect(allowed).toEqual(expect.arrayContaining(['read', 'write', 'execve', 'arch_prctl']));
    expect(allowed).not.toContain('cacheflush');
    expect(options.initBinary).toBe('/usr/bin/tini-static');
    expect(options.availableCapabilities).toContain('CAP_CHOWN');
  });

  it('runs without seccomp when told, and without init when the binary is missing', async () => {
    const options = await load(null, join(dir, 'no-tini'));
    expect(options.seccomp).toBeUndefined();
    expect(options.initBinary).toBeUndefined();
  });

  it('names what is wrong with a profile', async () => {
    writeFileSync(join(dir, 'not-json'), '{');
    writeFileSync(join(dir, 'bad-shape'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'ALLOW' }] }));
    await expect(load(join(dir, 'missing'))).rejects.toThrow(/seccomp profile .*missing cannot be read/);
    await expect(load(join(dir, 'not-json'))).rejects.toThrow(/seccomp profile .*not-json is not JSON/);
    await expect(load(join(dir, 'bad-shape'))).rejects.toThrow(/seccomp profile .*bad-shape: \/syscalls\/0\/action must match pattern/);
  });

  it('parses kernel releases', () => {
    expect(kernelVersion('6.1.0-18-amd64')).toEqual({ major: 6, minor: 1 });
    expect(kernelVersion('weird')).toEqual({ major: 0, minor: 0 });
  });
});
