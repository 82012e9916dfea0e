import { randomBytes } from 'node:crypto';
import type { ContainerState } from './task-state.js';

/**
 * What the agent adds to a container's environment: where its task metadata is (ECS's v3 and v4 names) and
 * the agent API (ECS_AGENT_URI: the task scale-in protection endpoint), under the container's own secret
 * token (made once, then saved with it). Nothing without an endpoint.
 */
export function agentEnv(c: ContainerState, metadataEndpoint: string | undefined): Record<string, string> {
  if (!metadataEndpoint) return {};
  c.metadataToken ??= randomBytes(16).toString('hex');
  return {
    ECS_CONTAINER_METADATA_URI_V4: `${metadataEndpoint}/v4/${c.metadataToken}`,
    ECS_CONTAINER_METADATA_URI: `${metadataEndpoint}/v3/${c.metadataToken}`,
    ECS_AGENT_URI: `${metadataEndpoint}/api/${c.metadataToken}`,
    AWS_EXECUTION_ENV: 'AWS_ECS_EC2',
  };
}
