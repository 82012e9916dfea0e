/**
 * gVisor's runsc as an {@link OciRuntimeFlavour}: what berth's OCI spec (built for runc with Docker's
 * defaults) becomes under gVisor, in one place.
 *
 * Under runsc the container's processes run on gVisor's Sentry, an application kernel in user space: their
 * system calls are served by the Sentry, not the host, and the Sentry itself runs under a tight seccomp filter
 * of its own, with files reached through a separate gofer process. So:
 * - `linux.seccomp` is dropped: runsc does not apply an OCI seccomp profile to the application (gVisor is the
 *   sandbox; `--oci-seccomp` would filter inside the Sentry, which adds nothing berth relies on).
 * - host networking is refused: `--network=sandbox` gives the container gVisor's own network stack on the
 *   interfaces of the network namespace it is given (awsvpc: the task's namespace made by CNI); a container
 *   without one gets a new namespace with loopback only, as under runc.
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
  const { seccomp: _ignored, ...linux } = oci.linux;
  return { ...oci, linux };
}

/** Debian's `runsc`. */
export const RUNSC: OciRuntimeFlavour = {
  name: 'runsc',
  defaultPath: '/usr/bin/runsc',
  globalArgs: [`--platform=${RUNSC_PLATFORM}`, '--network=host'],
  adaptSpec: adaptSpecForRunsc,
  execFifo: false,
  rootPerContainer: true,
  seccomp: false,
};
