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
 * - host networking is refused. The sandbox joins the container's network namespace (awsvpc: the task's, made
 *   by CNI; without one a new one with loopback only) with `--network=host`: the Sentry passes socket calls to
 *   the host kernel inside that namespace. gVisor's own network stack (`--network=sandbox`) would keep those calls
 *   off the host kernel, but runsc 20221219 takes every namespace with /proc/sys/net/core/rmem_default for the
 *   host's and refuses it, and on this host's kernel (6.x) every namespace has that file.
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

/** Debian's `runsc`. */
export const RUNSC: OciRuntimeFlavour = {
  name: 'runsc',
  defaultPath: '/usr/bin/runsc',
  globalArgs: [`--platform=${RUNSC_PLATFORM}`, '--network=host'],
  adaptSpec: adaptSpecForRunsc,
  execFifo: false,
  rootPerContainer: true,
  execPid: 'sandbox',
  execNeedsUser: true,
  seccomp: false,
};
