import { describe, expect, it } from 'vitest';
import { InvalidContainerSpecError } from '../errors.js';
import { DOCKER_DEFAULT_CAPABILITIES } from '../runc/capabilities.js';
import { toOciSpec, type OciSpecOptions } from '../runc/to-oci-spec.js';
import type { ContainerSpec } from '../runtime.js';
import { RUNSC, adaptSpecForRunsc } from './runsc-flavour.js';

const base: ContainerSpec = {
  id: 'task-1-web',
  rootfs: '/var/lib/berth/rootfs/task-1-web',
  process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
  resources: { memoryLimitBytes: 512 << 20 },
  logPath: '/var/log/berth/task-1-web.log',
  labels: {},
};
const seccomp: OciSpecOptions['seccomp'] = {
  profile: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] },
  arch: 'amd64',
  kernel: { major: 6, minor: 1 },
};
const adapt = (over: Partial<ContainerSpec> = {}) => {
  const spec = { ...base, ...over };
  return adaptSpecForRunsc(toOciSpec(spec, { cgroupParent: '/berth', seccomp }), spec);
};

describe('adaptSpecForRunsc', () => {
  it('drops the seccomp profile (gVisor is the sandbox) and keeps the rest of the spec, limits included', () => {
    const runc = toOciSpec(base, { cgroupParent: '/berth', seccomp });
    expect(runc.linux.seccomp).toBeDefined();
    const runsc = adapt();
    expect(runsc.linux.seccomp).toBeUndefined();
    expect(runsc.linux.resources).toEqual(runc.linux.resources);
    expect(runsc.linux.resources.memory?.limit).toBe(512 << 20);
    expect(runsc.mounts).toEqual(runc.mounts);
    expect(runsc.process).toEqual(runc.process);
  });

  it('clears the effective and permitted capabilities of a non-root user, keeping the bounding set', () => {
    const { capabilities } = adapt({ process: { ...base.process, uid: 1000 } }).process;
    expect(capabilities.effective).toEqual([]);
    expect(capabilities.permitted).toEqual([]);
    expect([...capabilities.bounding].sort()).toEqual([...DOCKER_DEFAULT_CAPABILITIES].sort());
  });

  it('refuses host networking and privileged containers, naming the field', () => {
    expect(() => adapt({ network: 'host' })).toThrow(InvalidContainerSpecError);
    expect(() => adapt({ network: 'host' })).toThrow(/^network: /);
    expect(() => adapt({ privileged: true })).toThrow(/^privileged: /);
    expect(adapt({ network: '/var/run/netns/berth-task-1' }).linux.namespaces).toContainEqual({ type: 'network', path: '/var/run/netns/berth-task-1' });
  });

  it("runs on the ptrace platform with gVisor's network stack, one root per container", () => {
    expect(RUNSC.globalArgs).toEqual(['--platform=ptrace', '--network=sandbox']);
    // start in a mount namespace of its own (runsc 20221219's root-namespace check, see RUNSC_START_SCRIPT).
    const [command, args] = RUNSC.startCommand!('/usr/bin/runsc', ['--root=/r', 'start', 'c1']);
    expect(command).toBe('unshare');
    expect(args.slice(0, 5)).toEqual(['--mount', '--propagation', 'private', 'sh', '-c']);
    expect(args.slice(-4)).toEqual(['/usr/bin/runsc', '--root=/r', 'start', 'c1']);
    expect(RUNSC).toMatchObject({ rootPerContainer: true, execFifo: false, execPid: 'sandbox', execNeedsUser: true, seccomp: false, defaultPath: '/usr/bin/runsc' });
  });
});
