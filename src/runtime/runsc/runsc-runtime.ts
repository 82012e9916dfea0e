import { RuncRuntime, type RuncRuntimeOptions } from '../runc/runc-runtime.js';
import { RUNSC } from './runsc-flavour.js';

/** How to run gVisor containers: the runc runtime's options but its flavour and seccomp profile (not used under gVisor). */
export type RunscRuntimeOptions = Omit<RuncRuntimeOptions, 'flavour' | 'seccompProfile'>;

/**
 * The {@link Runtime} on gVisor: each container is a runsc sandbox (its own application kernel) under its own
 * conmon. One implementation with runc's ({@link RuncRuntime}), configured with the {@link RUNSC} flavour: state,
 * recovery, exits, OOM, cgroups and exec work the same way.
 */
export type RunscRuntime = RuncRuntime;

/** Open a gVisor runtime on `options.stateDir` (its own: runc's and runsc's state roots must not be shared). */
export function openRunscRuntime(options: RunscRuntimeOptions): Promise<RunscRuntime> {
  return RuncRuntime.open({ ...options, flavour: RUNSC, seccompProfile: null });
}
