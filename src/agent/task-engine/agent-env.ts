import { randomBytes, randomUUID } from 'node:crypto';
import type { EngineSettings } from './deps.js';
import type { ContainerState, TaskState } from './task-state.js';

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

/**
 * Where the task's containers get their task role's credentials (ECS's AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
 * which the AWS SDKs' container credential provider reads): only when task roles are enabled on this host,
 * the control plane sent credentials, and the task is not host-mode (unless that is enabled too). The id is
 * made once per task and saved with it, so containers created before an agent restart keep theirs.
 */
export function credentialsEnv(task: TaskState, settings: EngineSettings, hasCredentials: boolean): Record<string, string> {
  if (!settings.taskIamRole || !hasCredentials || !settings.metadataEndpoint) return {};
  if (task.spec.networkMode === 'host' && !settings.taskIamRoleNetworkHost) return {};
  task.credentialsId ??= randomUUID();
  const path = `/v2/credentials/${task.credentialsId}`;
  // The SDKs put a relative URI after http://169.254.170.2 (port 80); an endpoint elsewhere (another port,
  // for tests or a host that needs it) is given as a full URI, which the SDKs accept for that address.
  return settings.metadataEndpoint === 'http://169.254.170.2'
    ? { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: path }
    : { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${settings.metadataEndpoint}${path}` };
}
