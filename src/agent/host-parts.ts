import { join } from 'node:path';
import { OciImageService } from '../image/oci-image-service.js';
import { CniNetworkService } from '../network/cni-network-service.js';
import { HostPortAllocator } from '../network/port-allocator.js';
import { background, type BackgroundLog } from '../process/background.js';
import { SpawnHelper } from '../process/spawn-helper.js';
import { RuncRuntime } from '../runtime/runc/runc-runtime.js';
import { openRunscRuntime } from '../runtime/runsc/runsc-runtime.js';
import type { AgentParts } from './agent.js';
import type { AgentConfig } from './config.js';
import { LoopTaskStorage } from './ephemeral-storage.js';
import { ensureLocalAddress } from './metadata/host-address.js';

export interface HostPartsLifecycle {
  /**
   * Begin the background work of the parts, once the agent runs: keeping warm network attachments ready
   * (adopting those a previous agent left). Not before: an agent that fails to start leaves none.
   */
  startBackground(log: BackgroundLog): void;
  /** For a clean stop: detach the warm attachments (tasks keep theirs), stop the helpers. */
  close(): Promise<void>;
}

/**
 * The real parts a host's agent drives, all keeping their state under the agent's data directory:
 * runc under conmon (`runtime/`), the image store (`images/`), CNI attachments and leases (`network/`);
 * and the task metadata address, made an address of this host (169.254.170.2 on `lo`).
 */
export async function openHostParts(config: AgentConfig): Promise<AgentParts & HostPartsLifecycle> {
  // conmon, CNI plugins, `ip netns`, nft, mount and umount are forked by a small helper process: a fork from the agent
  // itself blocks its event loop for a time that grows with its memory (see spawn-helper.ts).
  const helper = SpawnHelper.start();
  // A Fargate pool host runs every task in a gVisor sandbox (its own state root: runc's and runsc's must not be shared).
  const runtime = config.fargate
    ? await openRunscRuntime({ stateDir: join(config.dataDir, 'runtime-runsc'), spawn: helper.spawn })
    : await RuncRuntime.open({ stateDir: join(config.dataDir, 'runtime'), spawn: helper.spawn });
  const images = new OciImageService({ root: join(config.dataDir, 'images'), insecureRegistries: config.insecureRegistries, spawn: helper.spawn });
  const network = new CniNetworkService({
    stateDir: join(config.dataDir, 'network'),
    bridge: { bridge: config.bridgeName, subnet: config.bridgeSubnet },
    spawn: helper.spawn,
    // A Fargate host's tasks are all awsvpc: no bridge attachment to keep warm.
    warmPool: { size: config.fargate ? 0 : config.warmNetworkAttachments },
  });
  const ports = new HostPortAllocator({
    reservedTcp: config.reservedPorts,
    reservedUdp: config.reservedPortsUdp,
    dynamicRange: config.dynamicHostPortRange,
  });
  if (config.metadataAddress) await ensureLocalAddress(config.metadataAddress.host);
  // The containers' DNS relay listens there too (169.254.170.2 by default, even with the metadata endpoint off).
  if (config.dnsRelay !== undefined && config.dnsRelay !== config.metadataAddress?.host) await ensureLocalAddress(config.dnsRelay);
  return {
    runtime,
    images,
    network,
    ports,
    ...(config.metadataAddress ? { metadataAddress: config.metadataAddress } : {}),
    // A Fargate pool host holds each task to its ephemeral storage size on a filesystem of its own.
    ...(config.fargate ? { taskStorage: new LoopTaskStorage(join(config.dataDir, 'ephemeral')) } : {}),
    startBackground(log) {
      const onError = (what: string, err: unknown) => log.error({ err }, `warm network attachments: ${what} failed`);
      void background(log, 'adopting warm network attachments', () => network.startWarmPool(onError));
    },
    async close() {
      await network.close();
      await images.close();
      helper.close();
    },
  };
}
