import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AwsJsonClient, type Timeouts } from './aws-json/client.js';
import { BERTH_STORAGE, ECR, ECS, LOGS, type BerthStorageClient, type EcrClient, type EcsClient, type LogsClient } from './aws-json/services.js';
import { ClientsByCredentials } from './clients-by-credentials.js';
import type { ControlPlaneEndpoints } from './endpoints.js';

export type { Timeouts } from './aws-json/client.js';

/** A client made on first use. */
export type LazyClient<T> = () => Promise<T>;

/**
 * The agent's clients for the control plane's APIs (aws-json/client.ts), each failing over through
 * `endpoints`. ECS is used from the start; ECR, CloudWatch Logs and berth's storage API are made on first use.
 */
export interface ControlPlaneClients {
  readonly ecs: EcsClient;
  readonly ecr: LazyClient<EcrClient>;
  readonly logs: LazyClient<LogsClient>;
  /** For mounting tasks' EFS volumes (agent/efs-mounts.ts). */
  readonly storage: LazyClient<BerthStorageClient>;
  destroy(): void;
}

/**
 * Timeouts that let a hung replica count as failed: connecting is quick on a working network, and every
 * call the agent makes is answered promptly by a healthy replica (none streams or long-polls).
 */
export const DEFAULT_TIMEOUTS: Timeouts = { connectionTimeout: 3_000, requestTimeout: 10_000 };

export function controlPlaneClients(
  endpoints: ControlPlaneEndpoints,
  region: string,
  credentials: AwsCredentialIdentityProvider,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
): ControlPlaneClients {
  const common = { endpoints, region, credentials, timeouts };
  const ecs = new AwsJsonClient(ECS, { ...common, maxAttempts: 5 });
  const made: { destroy(): void }[] = [ecs];
  let destroyed = false;
  /** One client for the life of the agent, made by `make` the first time it is asked for. */
  const lazy = <T extends { destroy(): void }>(make: () => T): LazyClient<T> => {
    let client: Promise<T> | undefined;
    return () =>
      (client ??= Promise.resolve().then(() => {
        const c = make();
        // Destroyed already (agent stopping): closed at once, nothing left open.
        if (destroyed) c.destroy();
        else made.push(c);
        return c;
      }));
  };
  return {
    ecs,
    ecr: lazy(() => new AwsJsonClient(ECR, { ...common, maxAttempts: 3 })),
    logs: lazy(() => new AwsJsonClient(LOGS, { ...common, maxAttempts: 3 })),
    storage: lazy(() => new AwsJsonClient(BERTH_STORAGE, { ...common, maxAttempts: 3 })),
    destroy() {
      destroyed = true;
      for (const c of made.splice(0)) c.destroy();
    },
  };
}

/** ECR and CloudWatch Logs clients made with tasks' execution-role credentials (see executionRoleClients). */
export interface ExecutionRoleClients {
  ecr(credentials: AwsCredentialIdentity): Promise<EcrClient>;
  logs(credentials: AwsCredentialIdentity): Promise<LogsClient>;
  destroy(): void;
}

/**
 * Clients the agent uses on a task's behalf with its execution role's credentials, one per set of
 * credentials (at most 32 of each kind kept), failing over as the agent's own. Two attempts a call: a
 * refusal is final, and ECS's stopped reasons say "retried 1 time(s)".
 */
export function executionRoleClients(endpoints: ControlPlaneEndpoints, region: string, timeouts: Timeouts = DEFAULT_TIMEOUTS): ExecutionRoleClients {
  const common = (credentials: AwsCredentialIdentity) => ({ endpoints, region, credentials, maxAttempts: 2, timeouts });
  const ecr = new ClientsByCredentials(async (credentials) => new AwsJsonClient(ECR, common(credentials)));
  const logs = new ClientsByCredentials(async (credentials) => new AwsJsonClient(LOGS, common(credentials)));
  return {
    ecr: (c) => ecr.get(c),
    logs: (c) => logs.get(c),
    destroy() {
      ecr.destroy();
      logs.destroy();
    },
  };
}
