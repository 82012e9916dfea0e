/**
 * The task scale-in protection endpoint, `${ECS_AGENT_URI}/task-protection/v1/state` (ECS_AGENT_URI is
 * `<endpoint>/api/<token>`): GET reads the requesting task's protection, PUT `{"ProtectionEnabled": true,
 * "ExpiresInMinutes": 60}` sets it. Like ECS's agent, it forwards to the control plane's GetTaskProtection and
 * UpdateTaskProtection for the task the token names, and answers in the agent's own shape:
 *
 *   200 {"protection": {"ExpirationDate": "<RFC 3339>"|null, "ProtectionEnabled": bool, "TaskArn": "…"}}
 *   200 {"failure": {"Arn": "…", "Detail": …, "Reason": "…"}}           a per-task failure from the API
 *   4xx/5xx {"requestID"?: "…", "error": {"Arn"?: "…", "Code": "…", "Message": "…"}}
 *
 * Like ECS's agent, it calls with the task role's credentials, never the agent's own: the instance role
 * (AmazonEC2ContainerServiceforEC2Role) does not allow these actions, and a task may only protect itself as far as
 * its own role lets it. A task without role credentials gets ECS's 403 AccessDeniedException.
 */
import type { Failure, ProtectedTask } from '@aws-sdk/client-ecs';
import type { RoleCredentials } from '../../model/acs.js';
import { AwsJsonClient } from '../aws-json/client.js';
import { ECS, type EcsClient } from '../aws-json/services.js';
import type { Wire } from '../aws-json/wire.js';
import { identityOf } from '../clients-by-credentials.js';
import { DEFAULT_TIMEOUTS } from '../control-plane-clients.js';
import type { ControlPlaneEndpoints } from '../endpoints.js';
import { describeFailure } from './tags.js';

type ProtectionOutput = { protectedTasks?: ProtectedTask[]; failures?: Failure[] };

/** The two calls the endpoint makes, for the task the token names, signed with that task's role credentials. */
export interface ProtectionApi {
  get(taskArn: string, credentials: RoleCredentials): Promise<ProtectionOutput>;
  update(taskArn: string, credentials: RoleCredentials, enabled: boolean, expiresInMinutes?: number): Promise<ProtectionOutput>;
}

/**
 * The calls through the control plane's ECS API for the agent's cluster, failing over between replicas as every
 * agent call does; one client per call, since the credentials are the requesting task's.
 */
export function ecsProtectionApi(endpoints: ControlPlaneEndpoints, region: string, cluster: string): ProtectionApi {
  const withClient = async (c: RoleCredentials, call: (ecs: EcsClient) => Promise<Wire<ProtectionOutput>>): Promise<ProtectionOutput> => {
    const ecs = new AwsJsonClient(ECS, { endpoints, region, credentials: identityOf(c), maxAttempts: 3, timeouts: DEFAULT_TIMEOUTS });
    try {
      const { protectedTasks, failures } = await call(ecs);
      return {
        ...(protectedTasks ? { protectedTasks: protectedTasks.map(({ expirationDate, ...p }) => ({ ...p, ...(expirationDate !== undefined ? { expirationDate: new Date(expirationDate * 1000) } : {}) })) } : {}),
        ...(failures ? { failures } : {}),
      };
    } finally {
      ecs.destroy();
    }
  };
  return {
    get: (taskArn, c) => withClient(c, (ecs) => ecs.send('GetTaskProtection', { cluster, tasks: [taskArn] })),
    update: (taskArn, c, enabled, expiresInMinutes) =>
      withClient(c, (ecs) => ecs.send('UpdateTaskProtection', { cluster, tasks: [taskArn], protectionEnabled: enabled, ...(expiresInMinutes !== undefined ? { expiresInMinutes } : {}) })),
  };
}

/** `/api/<token>/task-protection/v1/state` → the token; undefined for any other path. */
export function protectionToken(url: string): string | undefined {
  const path = url.split('?')[0]!.replace(/(.)\/$/, '$1');
  return /^\/api\/([^/]+)\/task-protection\/v1\/state$/.exec(path)?.[1];
}

export interface ProtectionAnswer {
  readonly status: number;
  readonly body: unknown;
}

const errorAnswer = (status: number, code: string, message: string, arn?: string, requestId?: string): ProtectionAnswer => ({
  status,
  body: { ...(requestId ? { requestID: requestId } : {}), error: { ...(arn ? { Arn: arn } : {}), Code: code, Message: message } },
});

/** No task behind the token (or one the requester may not use): ECS's 404. */
export const noTaskAnswer = (): ProtectionAnswer => errorAnswer(404, 'ResourceNotFoundException', 'Failed to find a task for the request');

/** The PUT body as ECS's agent decodes it: a JSON object of ProtectionEnabled and ExpiresInMinutes only (names in any case, as Go matches them). */
export function parseProtectionRequest(body: string): { enabled?: boolean; minutes?: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: { enabled?: boolean; minutes?: number } = {};
  for (const [k, v] of Object.entries(value)) {
    const name = k.toLowerCase();
    if (name === 'protectionenabled' && (typeof v === 'boolean' || v === null)) {
      if (v !== null) out.enabled = v;
    } else if (name === 'expiresinminutes' && ((typeof v === 'number' && Number.isInteger(v)) || v === null)) {
      if (v !== null) out.minutes = v;
    } else return undefined;
  }
  return out;
}

/** The ProtectedTask as ECS's agent writes it (Go field names; a timestamp as RFC 3339, null when absent). */
function protectionBody(p: ProtectedTask) {
  return {
    protection: {
      ExpirationDate: p.expirationDate ? p.expirationDate.toISOString().replace('.000Z', 'Z') : null,
      ProtectionEnabled: p.protectionEnabled ?? false,
      TaskArn: p.taskArn ?? null,
    },
  };
}

async function forward(taskArn: string, call: () => Promise<ProtectionOutput>): Promise<ProtectionAnswer> {
  let result: ProtectionOutput;
  try {
    result = await call();
  } catch (error) {
    const f = describeFailure(error);
    return errorAnswer(f.statusCode ?? 500, f.code ?? 'ServerException', f.message, taskArn, f.requestId);
  }
  const failures = result.failures ?? [];
  const tasks = result.protectedTasks ?? [];
  if (failures.length > 1 || (failures.length === 0 && tasks.length !== 1)) {
    return errorAnswer(500, 'ServerException', 'Unexpected error occurred', taskArn);
  }
  if (failures.length === 1) {
    const f = failures[0]!;
    return { status: 200, body: { failure: { Arn: f.arn ?? null, Detail: f.detail ?? null, Reason: f.reason ?? null } } };
  }
  return { status: 200, body: protectionBody(tasks[0]!) };
}

/** A PUT whose body is not ECS's request: refused before the token is even looked at, as ECS's agent does. */
export const undecodableAnswer = (): ProtectionAnswer => errorAnswer(400, 'InvalidParameterException', 'UpdateTaskProtection: failed to decode request');

/** A task with no role credentials (no taskRoleArn, or ECS_ENABLE_TASK_IAM_ROLE off): ECS's agent's 403. */
const noCredentialsAnswer = (taskArn: string): ProtectionAnswer =>
  errorAnswer(403, 'AccessDeniedException', 'Invalid Request: no task IAM role credentials available for task', taskArn);

/**
 * Answer a GET, or a PUT with its decoded body, for the task `taskArn` (already found from the token), with its
 * role's credentials when it has them (checked after the request itself, ECS's agent's order).
 */
export async function answerProtection(
  api: ProtectionApi,
  taskArn: string,
  credentials: RoleCredentials | undefined,
  request: { method: 'GET' } | { method: 'PUT'; enabled?: boolean; minutes?: number },
): Promise<ProtectionAnswer> {
  if (request.method === 'PUT' && request.enabled === undefined) {
    return errorAnswer(400, 'InvalidParameterException', "Invalid request: does not contain 'ProtectionEnabled' field", taskArn);
  }
  if (!credentials) return noCredentialsAnswer(taskArn);
  if (request.method === 'GET') return forward(taskArn, () => api.get(taskArn, credentials));
  return forward(taskArn, () => api.update(taskArn, credentials, request.enabled!, request.minutes));
}
