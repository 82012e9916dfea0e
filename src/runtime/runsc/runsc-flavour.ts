/**
 * gVisor's runsc as an {@link OciRuntimeFlavour}: what berth's OCI spec (built for runc with Docker's
 * defaults) becomes under gVisor, in one place.
 *
 * Under runsc the container's processes run on gVisor's Sentry, an application kernel in user space: their
 * system calls are served by the Sentry, not the host, and the Sentry itself runs under a tight seccomp filter
 * of its own, with files reached through a separate gofer process (over 9p). So:
 * - `linux.seccomp` is dropped: runsc does not apply an OCI seccomp profile to the application (gVisor is the
 *   sandbox; `--oci-seccomp` would filter inside the Sentry, which adds nothing berth relies on).
 * - `maskedPaths`, `readonlyPaths` and the device rules stay but matter little: the Sentry's /proc and /sys are
 *   its own (no /proc/kcore, no /sys/firmware to mask) and it exposes only its own devices.
 * - a non-root user's effective and permitted capabilities are cleared here (runc loses them at exec; the Sentry
 *   would keep them). NET_RAW is withheld by runsc itself (raw sockets off without `--net-raw`).
 * - privileged containers are refused: runsc cannot start a sandbox for one, and Fargate refuses them too.
 * - the network is gVisor's own stack (`--network=sandbox`): the sandbox joins the container's network namespace
 *   (awsvpc: the task's, made by CNI; without one a new one with loopback only), takes over its interfaces and
 *   addresses, and serves sockets itself, so socket calls never reach the host kernel either. Host networking is
 *   refused. See {@link RUNSC_START_SCRIPT} for what `runsc start` needs on current kernels.
 * - the platform is ptrace (gVisor's default, named so it stays so): `--platform=kvm` needs /dev/kvm and hangs
 *   on hosts without nested virtualisation.
 */
import { InvalidContainerSpecError } from '../errors.js';
import type { OciRuntimeFlavour } from '../runc/oci-runtime.js';
import type { OciSpec } from '../runc/oci-spec.js';
import type { ContainerSpec } from '../runtime.js';

/** gVisor's platform berth uses: system calls intercepted with ptrace (no /dev/kvm needed). */
export const RUNSC_PLATFORM = 'ptrace';

/** The spec for runsc, from berth's spec for runc. Throws InvalidContainerSpecError for what gVisor cannot run. */
export function adaptSpecForRunsc(oci: OciSpec, spec: ContainerSpec): OciSpec {
  if (spec.network === 'host') {
    throw new InvalidContainerSpecError('network: host networking is not available under gVisor (runsc); give the container a network namespace');
  }
  if (spec.privileged) {
    // runsc cannot start a sandbox for one (and Fargate refuses privileged containers too).
    throw new InvalidContainerSpecError('privileged: privileged containers are not available under gVisor (runsc)');
  }
  const { seccomp: _ignored, ...linux } = oci.linux;
  // runc's exec as a non-root user clears the effective and permitted sets (nothing ambient, no file capabilities);
  // the Sentry gives the process the spec's sets as they are. Cleared here, a non-root user holds none, as under runc.
  const process =
    oci.process.user.uid === 0 ? oci.process : { ...oci.process, capabilities: { ...oci.process.capabilities, effective: [], permitted: [] } };
  return { ...oci, process, linux };
}

/**
 * `runsc start` with the host's /proc/sys/net out of its sight. When it sets up the sandbox's network, runsc
 * 20221219 refuses a namespace in which /proc/sys/net/core/rmem_default exists, taking it for the host's (that
 * file was once only there); since Linux made rmem_default per namespace every namespace has it, so every
 * start is refused ("cannot run with network enabled in root network namespace"). So it runs in a mount
 * namespace of its own where /proc/sys is a tmpfs holding binds of every /proc/sys directory but `net` (the
 * namespace's sysctl directories cannot be covered one by one: each namespace sees its own dentries). What
 * runsc reads besides (vm/mmap_min_addr, kernel/…) is still there. Nothing else sees that namespace; the sandbox
 * was made by `runsc create` before and is not in it. Arguments: the runtime's path, then its own arguments.
 */
export const RUNSC_START_SCRIPT = [
  'set -e',
  'exec 3</proc/sys',
  'mount -t tmpfs -o mode=0555,size=4k berth-sysctl /proc/sys',
  // Through fd 3 the covered directories are still reachable; --no-canonicalize keeps mount from resolving
  // /proc/self/fd/3 back to the (now covered) /proc/sys path. A directory that cannot be bound is left out
  // rather than failing the start: runsc names any file it then misses.
  'for d in /proc/self/fd/3/*; do n=${d##*/}; [ "$n" = net ] && continue; mkdir "/proc/sys/$n" && mount --no-canonicalize --bind "$d" "/proc/sys/$n" || :; done',
  'exec 3<&-',
  'runtime=$1; shift',
  'exec "$runtime" "$@"',
].join('\n');

/** Debian's `runsc`. */
export const RUNSC: OciRuntimeFlavour = {
  name: 'runsc',
  defaultPath: '/usr/bin/runsc',
  globalArgs: [`--platform=${RUNSC_PLATFORM}`, '--network=sandbox'],
  startCommand: (runtimePath, argv) => ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', RUNSC_START_SCRIPT, 'sh', runtimePath, ...argv]],
  adaptSpec: adaptSpecForRunsc,
  execFifo: false,
  rootPerContainer: true,
  execPid: 'sandbox',
  execNeedsUser: true,
  seccomp: false,
  overlayRoot: false,
};
