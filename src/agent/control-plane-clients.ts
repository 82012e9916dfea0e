import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { HttpRequest } from '@smithy/protocol-http';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, FinalizeRequestMiddleware, Pluggable } from '@smithy/types';
import { ClientsByCredentials } from './clients-by-credentials.js';
import { isUnavailable, type ControlPlaneEndpoints } from './endpoints.js';

/**
 * Point every attempt of an SDK call at the replica `endpoints` names now, and report a replica that did
 * not answer, so the SDK's own retry of that call lands on the next one.
 *
 * Why a middleware and not an endpoint provider: the SDK resolves its endpoint once per call, before its
 * retry loop, so every retry would go back to the dead replica. This one sits inside the retry loop and
 * before signing (`before httpSigningMiddleware`, which itself runs after `retryMiddleware`), so each
 * attempt is addressed — and signed, Host header included — for the replica it goes to.
 */
export function failoverPlugin<I extends object, O extends object>(endpoints: ControlPlaneEndpoints): Pluggable<I, O> {
  const middleware: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    if (!HttpRequest.isInstance(args.request)) return next(args);
    const endpoint = endpoints.current();
    const request = addressed(args.request, endpoint);
    try {
      const output = await next({ ...args, request });
      endpoints.succeeded(endpoint);
      return output;
    } catch (error) {
      if (isUnavailable(error)) endpoints.failed(endpoint);
      else endpoints.succeeded(endpoint);
      throw error;
    }
  };
  return {
    applyToStack(stack) {
      stack.addRelativeTo(middleware, { name: 'berthEndpointFailover', relation: 'before', toMiddleware: 'httpSigningMiddleware', override: true });
    },
  };
}

/** A copy of `request` sent to `endpoint` (an origin: scheme, host and port; config refuses paths). */
function addressed(request: HttpRequest, endpoint: string): HttpRequest {
  const url = new URL(endpoint);
  const copy = HttpRequest.clone(request);
  copy.protocol = url.protocol;
  copy.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  copy.port = url.port ? Number(url.port) : undefined;
  copy.headers = { ...copy.headers, host: url.host };
  return copy;
}

/** A client made (and its SDK package loaded) on first use. */
export type LazyClient<T> = () => Promise<T>;

/**
 * The agent's clients for the control plane's APIs, each failing over through `endpoints`. ECS is used
 * from the start; ECR and CloudWatch Logs are made on first use: each SDK package holds megabytes of
 * code and schemas, and an agent whose tasks pull nothing from berth's registry (or ship no logs) never
 * needs them.
 */
export interface ControlPlaneClients {
  readonly ecs: ECSClient;
  readonly ecr: LazyClient<ECRClient>;
  readonly logs: LazyClient<CloudWatchLogsClient>;
  destroy(): void;
}

/**
 * Timeouts that let a hung replica count as failed: connecting is quick on a working network, and every
 * call the agent makes is answered promptly by a healthy replica (none streams or long-polls).
 */
const DEFAULT_TIMEOUTS: Timeouts = { connectionTimeout: 3_000, requestTimeout: 10_000 };

/**
 * Milliseconds to connect, and for a request's whole exchange (NodeHttpHandler's options; the request
 * timeout only throws — rather than logging a warning — with throwOnRequestTimeout, which is set).
 */
export interface Timeouts {
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
}

export function controlPlaneClients(
  endpoints: ControlPlaneEndpoints,
  region: string,
  credentials: AwsCredentialIdentityProvider,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
): ControlPlaneClients {
  const common = { endpoint: endpoints.current(), region, credentials, requestHandler: { ...timeouts, throwOnRequestTimeout: true } };
  const ecs = new ECSClient({ ...common, maxAttempts: 5 });
  ecs.middlewareStack.use(failoverPlugin(endpoints));
  const made: { destroy(): void }[] = [ecs];
  let destroyed = false;
  /** One client for the life of the agent, made by `make` the first time it is asked for. */
  const lazy = <T extends { destroy(): void }>(make: () => Promise<T>): LazyClient<T> => {
    let client: Promise<T> | undefined;
    return () =>
      (client ??= make().then((c) => {
        // Destroyed already (agent stopping while it loaded): closed at once, nothing left open.
        if (destroyed) c.destroy();
        else made.push(c);
        return c;
      }));
  };
  return {
    ecs,
    ecr: lazy(async () => {
      const ecr = new (await import('@aws-sdk/client-ecr')).ECRClient({ ...common, maxAttempts: 3 });
      ecr.middlewareStack.use(failoverPlugin(endpoints));
      return ecr;
    }),
    logs: lazy(async () => {
      const logs = new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient({ ...common, maxAttempts: 3 });
      logs.middlewareStack.use(failoverPlugin(endpoints));
      return logs;
    }),
    destroy() {
      destroyed = true;
      for (const c of made.splice(0)) c.destroy();
    },
  };
}

/** ECR and CloudWatch Logs clients made with tasks' execution-role credentials (see executionRoleClients). */
export interface ExecutionRoleClients {
  ecr(credentials: AwsCredentialIdentity): Promise<ECRClient>;
  logs(credentials: AwsCredentialIdentity): Promise<CloudWatchLogsClient>;
  destroy(): void;
}

/**
 * Clients the agent uses on a task's behalf with its execution role's credentials, one per set of
 * credentials (at most 32 of each kind kept), failing over as the agent's own. Two attempts a call: a
 * refusal is final, and ECS's stopped reasons say "retried 1 time(s)".
 */
export function executionRoleClients(endpoints: ControlPlaneEndpoints, region: string, timeouts: Timeouts = DEFAULT_TIMEOUTS): ExecutionRoleClients {
  const common = (credentials: AwsCredentialIdentity) => ({ endpoint: endpoints.current(), region, credentials, maxAttempts: 2, requestHandler: { ...timeouts, throwOnRequestTimeout: true } });
  const ecr = new ClientsByCredentials(async (credentials) => {
    const client = new (await import('@aws-sdk/client-ecr')).ECRClient(common(credentials));
    client.middlewareStack.use(failoverPlugin(endpoints));
    return client;
  });
  const logs = new ClientsByCredentials(async (credentials) => {
    const client = new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient(common(credentials));
    client.middlewareStack.use(failoverPlugin(endpoints));
    return client;
  });
  return {
    ecr: (c) => ecr.get(c),
    logs: (c) => logs.get(c),
    destroy() {
      ecr.destroy();
      logs.destroy();
    },
  };
}
