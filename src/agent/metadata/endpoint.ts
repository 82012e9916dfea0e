/**
 * The task metadata endpoint as the agent starts it: the handler over the task engine's state, the
 * runtime's stats and the control plane's tags, behind the HTTP listener.
 */
import type { Logger } from 'pino';
import type { Runtime } from '../../runtime/runtime.js';
import type { MetadataAddress } from '../config.js';
import type { EcsClient } from '../aws-json/services.js';
import type { ControlPlaneEndpoints } from '../endpoints.js';
import { MetadataHandler, type MetadataHandlerOptions } from './handler.js';
import type { MetadataSource } from './lookup.js';
import { startMetadataServer, type RunningMetadataServer } from './server.js';
import { ecsTagLister, TagCache } from './tags.js';
import { ecsProtectionApi } from './task-protection.js';

export interface MetadataEndpointOptions {
  readonly address: MetadataAddress;
  /** The task engine (read only). */
  readonly source: MetadataSource;
  readonly runtime: Pick<Runtime, 'stats'>;
  /** For ListTagsForResource (`/taskWithTags`), with the agent's credentials. */
  readonly ecs: EcsClient;
  /** Where task protection calls go (signed with the requesting task's role credentials, not the agent's). */
  readonly endpoints: ControlPlaneEndpoints;
  readonly region: string;
  readonly clusterName: string;
  readonly availabilityZone: string;
  readonly containerInstanceArn: string;
  /** Tasks' role credentials, and whether host-mode tasks get theirs. */
  readonly credentials?: MetadataHandlerOptions['credentials'];
  readonly hostModeCredentials?: boolean;
  readonly log: Logger;
}

export type { RunningMetadataServer as RunningMetadataEndpoint };

export function startMetadataEndpoint(options: MetadataEndpointOptions): Promise<RunningMetadataServer> {
  const { runtime } = options;
  const handler = new MetadataHandler({
    source: options.source,
    clusterName: options.clusterName,
    availabilityZone: options.availabilityZone,
    containerInstanceArn: options.containerInstanceArn,
    ...(runtime.stats ? { stats: (id: string) => runtime.stats!(id) } : {}),
    tags: new TagCache(ecsTagLister(options.ecs)),
    protection: ecsProtectionApi(options.endpoints, options.region, options.clusterName),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.hostModeCredentials ? { hostModeCredentials: true } : {}),
    log: options.log,
  });
  return startMetadataServer({ address: options.address, handler, log: options.log });
}
