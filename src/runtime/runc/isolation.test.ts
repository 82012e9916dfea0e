import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupMountPoints, startRuntimeFixture, type RuntimeFixture } from '../../testing/runtime-fixture.js';
import { DOCKER_DEFAULT_CAPABILITIES, capabilitiesFromMask, capabilityMask, type Capability } from './capabilities.js';
import { MASKED_PATHS } from './docker-defaults.js';
import { HostCgroups } from './cgroups.js';

let f: RuntimeFixture;
beforeAll(async () => {
  f = await startRuntimeFixture();
});
afterAll(async () => {
  await f?.cleanup();
});

/** The `Name:\tvalue` fields of /proc/self/status as the container's process sees them. */
async function procStatus(name: string, overrides: Parameters<RuntimeFixture['spec']>[2] = {}): Promise<Record<string, string>> {
  const { exit, stdout } = await f.run(f.id(name), ['cat', '/proc/self/status'], overrides);
  expect(exit.exitCode).toBe(0);
  return Object.fromEntries(stdout.split('\n').map((l) => l.split(':\t') as [string, string]));
}

/** Run a shell script in a container; returns its exit code and stdout. */
async function sh(name: string, script: string, overrides: Parameters<RuntimeFixture['spec']>[2] = {}) {
  const { exit, stdout } = await f.run(f.id(name), ['sh', '-c', script], overrides);
  return { code: exit.exitCode, out: stdout };
}

describe('security defaults', () => {
  it("Docker's capability set, no new privileges, seccomp filtering", async () => {
    const status = await procStatus('caps');
    expect(status.CapEff).toBe(capabilityMask(DOCKER_DEFAULT_CAPABILITIES));
    expect(status.CapEff).toBe('00000000a80425fb');
    expect(status.CapBnd).toBe(status.CapEff);
    expect(status.CapInh).toBe('0000000000000000');
    expect(status.NoNewPrivs).toBe('1');
    expect(status.Seccomp).toBe('2');
  });

  it('capabilities added and dropped', async () => {
    const status = await procStatus('capadd', { capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN'] } });
    const expected = [...DOCKER_DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN' as Capability];
    expect(status.CapEff).toBe(capabilityMask(expected));
  });

  it('a seccomp profile is filtered for the container and enforced', async () => {
    // mkdir is refused (EACCES) unless the container holds CAP_SYS_ADMIN: the rule is dropped for such containers.
    const profile = join(f.dir, 'seccomp-test.json');
    writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, excludes: { caps: ['CAP_SYS_ADMIN'] } }],
    }));
    const g = await startRuntimeFixture({ seccompProfile: profile });
    try {
      const script = 'mkdir /tmp/d-$$ 2>&1 && echo made';
      const denied = await g.run(g.id('sc-denied'), ['sh', '-c', script]);
      const allowed = await g.run(g.id('sc-allowed'), ['sh', '-c', script], { capabilities: { add: ['SYS_ADMIN'] } });
      expect(denied.stdout).toMatch(/Permission denied/);
      expect(allowed.stdout).toBe('made');
    } finally {
      await g.cleanup();
    }
  });

  it('a non-root user has no effective capabilities', async () => {
    const status = await procStatus('nonroot', { process: { uid: 65534, gid: 65534 } });
    expect(status.CapEff).toBe('0000000000000000');
    expect(status.CapBnd).toBe(capabilityMask(DOCKER_DEFAULT_CAPABILITIES));
  });

  it('privileged: every capability, no seccomp, new privileges allowed', async () => {
    const status = await procStatus('priv', { privileged: true });
    // Every capability the agent holds itself (this sandbox withholds some from its own bounding set).
    const own = /^CapBnd:\s*(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    expect(status.CapEff).toBe(own);
    expect(capabilitiesFromMask(own).length).toBeGreaterThan(DOCKER_DEFAULT_CAPABILITIES.length + 20);
    expect(status.Seccomp).toBe('0');
    expect(status.NoNewPrivs).toBe('0');
  });

  it('masks /proc/kcore and the like, hides /sys/firmware, keeps /proc/sys read-only', async () => {
    // Only files this kernel has (this one may lack /proc/kcore) and that show something on the host.
    const files = MASKED_PATHS.filter((p) => p.startsWith('/proc/') && existsSync(p) && statSync(p).isFile() && readFileSync(p).length > 0);
    expect(files.length).toBeGreaterThan(0);
    const script = `for p in ${files.join(' ')}; do wc -c < $p; done; ls /sys/firmware | wc -l; cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname && echo writable || echo readonly`;
    const r = await sh('proc', script);
    expect(r.out.split('\n')).toEqual([...files.map(() => '0'), '0', 'readonly']);
  });
});

describe('namespaces', () => {
  it('own pid namespace: ps shows only the container', async () => {
    const r = await sh('pidns', 'ps -o pid,comm; exit 0');
    const rows = r.out.split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['1', 'sh']);
    expect(rows.map((row) => row[1])).toEqual(['sh', 'ps']);
  });

  it('own network namespace with loopback only, own hostname', async () => {
    const r = await sh('netns', 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; hostname', { hostname: 'isolated' });
    expect(r.out.split('\n')).toEqual(['lo', 'isolated']);
  });

  it('joins a given network namespace, or the host one', async () => {
    const name = `berth-${f.id('ns')}`;
    execFileSync('ip', ['netns', 'add', name]);
    try {
      const path = `/var/run/netns/${name}`;
      const joined = await sh('netjoin', 'stat -L -c %i /proc/self/ns/net', { network: path });
      expect(Number(joined.out)).toBe(statSync(path).ino);
      const host = await sh('nethost', 'stat -L -c %i /proc/self/ns/net', { network: 'host' });
      expect(Number(host.out)).toBe(statSync('/proc/self/ns/net').ino);
    } finally {
      execFileSync('ip', ['netns', 'del', name]);
    }
  });
});

describe('file systems', () => {
  it('read-only rootfs, with /dev/shm still writable', async () => {
    const r = await sh('ro', 'touch /newfile 2>/dev/null && echo rootfs-writable; touch /dev/shm/x && echo shm-ok', { readonlyRootfs: true });
    expect(r.out).toBe('shm-ok');
  });

  it('a root mounted by runc as an overlay: read-only when asked, /dev/shm and mounts over it, masked paths kept', async () => {
    writeFileSync(join(f.dir, 'hosts-over'), '10.0.0.2 cache\n');
    const root = (name: string) => f.overlayRoot(f.id(name));
    const ro = root('overlay-ro');
    const r = await sh(
      'overlay-ro',
      'touch /newfile 2>/dev/null && echo rootfs-writable; touch /dev/shm/x && echo shm-ok; cat /etc/hosts; grep -c "^overlay / overlay ro," /proc/mounts; cat /proc/kcore 2>/dev/null | wc -c',
      { ...ro, readonlyRootfs: true, etcFiles: { hosts: join(f.dir, 'hosts-over') } },
    );
    expect(r.out.split('\n')).toEqual(['shm-ok', '10.0.0.2 cache', '1', '0']);
    // Writable: the writes go to the upper directory, the lower layer (the fixture's rootfs) is untouched.
    const rw = root('overlay-rw');
    expect((await sh('overlay-rw', 'echo w > /tmp/written && echo ok', rw)).out).toBe('ok');
    expect(readFileSync(join(rw.rootfsOverlay.upperdir, 'tmp/written'), 'utf8')).toBe('w\n');
    expect(existsSync(join(f.rootfs, 'tmp/written'))).toBe(false);
  });

  it('sharedMemorySize sizes /dev/shm (64 MiB by default)', async () => {
    const sized = await sh('shm', "df -k /dev/shm | tail -1 | awk '{print $2}'", { sharedMemoryBytes: 128 << 20 });
    const plain = await sh('shmdefault', "df -k /dev/shm | tail -1 | awk '{print $2}'");
    expect([Number(sized.out), Number(plain.out)]).toEqual([131072, 65536]);
  });

  it('bind mounts (read-only when asked), tmpfs and etc files', async () => {
    const data = join(f.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'file'), 'from host');
    writeFileSync(join(f.dir, 'hosts'), '10.0.0.1 db\n');
    const r = await sh(
      'mounts',
      'cat /data/file; echo; touch /data/new 2>/dev/null || echo data-ro; grep " /scratch " /proc/mounts | cut -d" " -f3; cat /etc/hosts; echo x >> /etc/hosts 2>/dev/null || echo hosts-ro',
      {
        mounts: [
          { type: 'bind', source: data, destination: '/data', readOnly: true },
          { type: 'tmpfs', source: '', destination: '/scratch', options: ['size=1m'] },
        ],
        etcFiles: { hosts: join(f.dir, 'hosts') },
      },
    );
    expect(r.out.split('\n')).toEqual(['from host', 'data-ro', 'tmpfs', '10.0.0.1 db', 'hosts-ro']);
    expect(existsSync(join(data, 'new'))).toBe(false);
  });

  it('ulimits', async () => {
    const r = await sh('ulimit', 'ulimit -n; ulimit -Hn', { process: { rlimits: [{ type: 'nofile', soft: 1024, hard: 2048 }] } });
    expect(r.out.split('\n')).toEqual(['1024', '2048']);
  });
});

describe('init', () => {
  it('runs tini as pid 1 with the command as its child', async () => {
    const r = await sh('init', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $PPID', { init: true });
    expect(r.out.split('\n')).toEqual(['/dev/init -- sh -c cat /proc/1/cmdline | tr "\\0" " "; echo; echo $PPID ', '1']);
  });
});

describe('cgroups', () => {
  const cgroups = HostCgroups.discover();
  const memoryMount = () => cgroupMountPoints().find((m) => m.endsWith('/memory'))!;
  const cpuMount = () => cgroupMountPoints().find((m) => /\/cpu(,cpuacct)?$/.test(m))!;

  it('writes cpu shares, memory limit and reservation and pids, and reports stats', async () => {
    const id = f.id('limits');
    await f.runtime.create(f.spec(id, ['sh', '-c', 'echo ready; sleep 1000'], { resources: { cpuShares: 0, memoryLimitBytes: 64 << 20, memoryReservationBytes: 32 << 20, pidsLimit: 50 } }));
    try {
      await f.runtime.start(id);
      const read = (mount: string, file: string) => readFileSync(join(mount, f.cgroupParent, id, file), 'utf8').trim();
      expect(read(memoryMount(), 'memory.limit_in_bytes')).toBe(String(64 << 20));
      expect(read(memoryMount(), 'memory.soft_limit_in_bytes')).toBe(String(32 << 20));
      expect(read(cpuMount(), 'cpu.shares')).toBe('2');
      const pids = cgroupMountPoints().find((m) => m.endsWith('/pids'));
      if (pids) expect(read(pids, 'pids.max')).toBe('50');
      const stats = await f.runtime.stats(id);
      expect(stats).toMatchObject({ memoryLimitBytes: 64 << 20 });
      expect(stats!.memoryUsageBytes).toBeGreaterThan(0);
      expect(stats!.cpuUsageNanos).toBeGreaterThan(0);
      // The details behind Docker-shaped stats (the task metadata endpoint's /stats).
      expect(stats!.memory!.stat).toHaveProperty('rss');
      expect(stats!.memory!.maxUsageBytes).toBeGreaterThanOrEqual(stats!.memoryUsageBytes);
      expect(stats!.pids).toMatchObject({ limit: 50 });
      expect(stats!.pids!.current).toBeGreaterThanOrEqual(1);
      expect(stats!.cpu!.percpuNanos!.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(stats!.systemCpuNanos).toBeGreaterThan(stats!.cpuUsageNanos);
      // Its own network namespace's counters, found through the pid runc recorded at create.
      expect(stats!.networks).toEqual({});
    } finally {
      await f.runtime.delete(id);
    }
  });

  it('an OOM kill is reported as oomKilled with exit code 137', async () => {
    const id = f.id('oom');
    await f.runtime.create(f.spec(id, ['tail', '/dev/zero'], { resources: { memoryLimitBytes: 32 << 20 } }));
    try {
      await f.runtime.start(id);
      const exit = await f.runtime.wait(id);
      expect(exit).toMatchObject({ exitCode: 137, oomKilled: true });
      // Both sources agree: conmon's oom file (it watches memory.oom_control on cgroup v1) and the cgroup's count.
      expect(existsSync(join(f.stateDir, 'containers', id, 'oom'))).toBe(true);
      expect(await (await cgroups).oomKilled(`${f.cgroupParent}/${id}`)).toBe(true);
    } finally {
      await f.runtime.delete(id);
    }
  });

  it('a container killed otherwise is not oomKilled', async () => {
    const id = f.id('notoom');
    await f.runtime.create(f.spec(id, ['sleep', '1000'], { resources: { memoryLimitBytes: 32 << 20 } }));
    await f.runtime.start(id);
    await f.runtime.kill(id, 'SIGKILL');
    expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 137, oomKilled: false });
    await f.runtime.delete(id);
  });
});
