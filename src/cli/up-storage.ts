import { join } from 'node:path';

/**
 * The storage host `berth up` runs beside its agents, so that a single machine can create EFS file systems and mount
 * them in tasks: one glusterd with its state under `<data dir>/storage/state` and one brick directory
 * `<data dir>/storage/bricks` (a single-brick volume per file system), in the EC2 agent's availability zone (a mount
 * target goes there). It runs only when every GlusterFS part is on PATH and the machine has an address GlusterFS
 * accepts for a brick (not loopback); otherwise the plan says why, and `berth up` goes on without it. Pure.
 */
export interface UpStorageInputs {
  readonly dataDir: string;
  /** --no-storage. */
  readonly enabled: boolean;
  /** --storage-address, else the machine's first non-loopback IPv4 (`defaultHostAddress`). */
  readonly address: string;
  readonly availabilityZone: string;
  /** STORAGE_COMMANDS missing from PATH. */
  readonly missing: readonly string[];
}

export type UpStoragePlan =
  | { readonly run: true; readonly hostId: string; readonly address: string; readonly brickDir: string; readonly stateDir: string; readonly availabilityZone: string }
  | { readonly run: false; readonly reason: string };

export function upStoragePlan(inputs: UpStorageInputs): UpStoragePlan {
  if (!inputs.enabled) return { run: false, reason: '--no-storage: no storage host, EFS file systems stay creating' };
  if (inputs.missing.length > 0) {
    return { run: false, reason: `${inputs.missing.join(', ')} not found on PATH: no storage host, EFS file systems stay creating and cannot be mounted (scripts/install.sh installs GlusterFS, bindfs and util-linux)` };
  }
  if (isLoopback(inputs.address)) {
    return { run: false, reason: `no storage host: its address ${inputs.address} is loopback, which GlusterFS refuses for bricks (give --storage-address with an address of this machine)` };
  }
  return {
    run: true,
    hostId: 'berth-up',
    address: inputs.address,
    brickDir: join(inputs.dataDir, 'storage', 'bricks'),
    stateDir: join(inputs.dataDir, 'storage', 'state'),
    availabilityZone: inputs.availabilityZone,
  };
}

/** GlusterFS's own test: localhost, 127.x, and 0.x (`volume create` refuses bricks there). */
function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^(127|0)\./.test(address);
}
