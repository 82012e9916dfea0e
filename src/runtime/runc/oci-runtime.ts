import type { ContainerSpec } from '../runtime.js';
import type { OciSpec } from './oci-spec.js';

/**
 * An OCI runtime that takes runc's command line (create/start/state/kill/delete/exec with `--root`), so that
 * one {@link RuncRuntime} drives it under conmon: runc itself, or gVisor's runsc (see runtime/runsc/). What
 * differs between them is here and nowhere else: the binary, its global flags, and what of berth's OCI spec
 * (built with Docker's defaults for runc) the runtime needs changed.
 */
export interface OciRuntimeFlavour {
  /** The name in messages (`runsc create failed: …`) and of the Debian package that installs it. */
  readonly name: string;
  readonly defaultPath: string;
  /** Flags given before the subcommand on every call (after `--root`), by berth and by conmon alike. */
  readonly globalArgs: readonly string[];
  /**
   * The spec this runtime is given for `spec`, from the one built for runc. Throws InvalidContainerSpecError
   * for what this runtime cannot run. Pure.
   */
  adaptSpec(oci: OciSpec, spec: ContainerSpec): OciSpec;
  /** Whether the runtime leaves runc's exec FIFO (`<root>/<id>/exec.fifo`) to release a created container. */
  readonly execFifo: boolean;
  /**
   * Whether each container gets its own `--root` (`<root>/<id>`). runsc takes an id it does not hold as a prefix
   * of one it does (`app` finds `app-sidecar`), so a kill or delete of a container already gone could reach
   * another; alone in its root, an id can only name its own container.
   */
  readonly rootPerContainer: boolean;
  /**
   * Where an exec'd command's pid is known, to kill it at its timeout: on the host (runc: `--pid-file`) or only
   * inside the sandbox (runsc: `--internal-pid-file`, killed with `runsc kill --pid`; killing the host's `runsc
   * exec` client would leave the command running in the Sentry).
   */
  readonly execPid: 'host' | 'sandbox';
  /** Whether exec must be told the container's user (runsc's runs as root otherwise; runc's takes the spec's). */
  readonly execNeedsUser: boolean;
  /**
   * How `start` is run when it needs more than the binary: the program and its arguments for the runtime's
   * own `argv` (runsc: inside a mount namespace of its own, see runsc-flavour.ts).
   */
  readonly startCommand?: (runtimePath: string, argv: readonly string[]) => readonly [string, readonly string[]];
  /** Whether Docker's seccomp profile is read and put in the spec (runsc: gVisor is the sandbox itself). */
  readonly seccomp: boolean;
  /**
   * Whether the runtime mounts an overlay given as the first of the spec's mounts (destination `/`) as the
   * container's root (Runtime.mountsRootfsOverlay). runsc looks for the container's files under `root.path` only.
   */
  readonly overlayRoot: boolean;
}

/** runc (Debian's `runc`): berth's spec as it is. */
export const RUNC: OciRuntimeFlavour = {
  name: 'runc',
  defaultPath: '/usr/sbin/runc',
  globalArgs: [],
  adaptSpec: (oci) => oci,
  execFifo: true,
  rootPerContainer: false,
  execPid: 'host',
  execNeedsUser: false,
  seccomp: true,
  overlayRoot: true,
};
