/**
 * An ECS target's RunTask request (pure), as EventBridge makes it: the cluster is the target's Arn, EcsParameters
 * give the launch (task definition, count, launch type or capacity providers, network, placement, group, tags,
 * execute command), and the target's input — the JSON Input, InputPath or InputTransformer produced — is the
 * task's overrides (containerOverrides, taskRoleArn, executionRoleArn, cpu, memory, ephemeralStorage…); fields of
 * the input that are no task override (the whole event, when the target sets no input) are ignored, as ECS targets
 * ignore them. A rule's task is started by `events-rule/<rule name>`, a schedule's by `scheduler/<schedule name>`.
 */
import type { RunTaskRequest, TaskOverride } from '@aws-sdk/client-ecs';
import { ServiceError } from '../model/errors.js';
import type { EventTarget } from '../state/records/events.js';

export interface EcsParameters {
  readonly TaskDefinitionArn: string;
  readonly TaskCount?: number;
  readonly LaunchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  readonly NetworkConfiguration?: { readonly awsvpcConfiguration?: { readonly Subnets: string[]; readonly SecurityGroups?: string[]; readonly AssignPublicIp?: 'ENABLED' | 'DISABLED' } };
  readonly PlatformVersion?: string;
  readonly Group?: string;
  readonly CapacityProviderStrategy?: { capacityProvider: string; weight?: number; base?: number }[];
  readonly EnableECSManagedTags?: boolean;
  readonly EnableExecuteCommand?: boolean;
  readonly PlacementConstraints?: { type?: string; expression?: string }[];
  readonly PlacementStrategy?: { type?: string; field?: string }[];
  readonly PropagateTags?: 'TASK_DEFINITION';
  readonly ReferenceId?: string;
  readonly Tags?: { Key: string; Value: string }[];
}

const ECS_CLUSTER_ARN = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const OVERRIDE_KEYS = ['containerOverrides', 'cpu', 'memory', 'executionRoleArn', 'taskRoleArn', 'inferenceAcceleratorOverrides', 'ephemeralStorage'] as const;

export const isEcsClusterArn = (arn: string) => ECS_CLUSTER_ARN.test(arn);

/** What PutTargets refuses of an ECS target, as EventBridge refuses it. */
export function checkEcsTarget(target: EventTarget): void {
  const params = target.EcsParameters as EcsParameters | undefined;
  if (!params) throw new ServiceError('ValidationException', `EcsParameters must be specified for target ${target.Id} (an ECS cluster).`);
  if (target.RoleArn === undefined) throw new ServiceError('ValidationException', `RoleArn is required for target ${target.Id} (an ECS cluster).`);
  if (params.LaunchType !== undefined && params.CapacityProviderStrategy !== undefined) {
    throw new ServiceError('ValidationException', `Target ${target.Id}: LaunchType and CapacityProviderStrategy cannot both be specified.`);
  }
  if ((params.TaskCount ?? 1) > 10) throw new ServiceError('ValidationException', `Target ${target.Id}: TaskCount must be at most 10.`);
}

/**
 * The RunTask request for one delivery: `startedBy` names who runs it (`events-rule/<rule>`, `scheduler/<schedule>`;
 * cut to RunTask's 36 characters), `input` is the target's input text, `clientToken` the attempt's.
 */
export function runTaskRequestOf(target: EventTarget, startedBy: string, input: string, clientToken: string): RunTaskRequest {
  const p = target.EcsParameters as EcsParameters;
  const vpc = p.NetworkConfiguration?.awsvpcConfiguration;
  return {
    cluster: target.Arn,
    taskDefinition: p.TaskDefinitionArn,
    count: p.TaskCount ?? 1,
    startedBy: startedBy.slice(0, 36),
    clientToken,
    ...(p.LaunchType !== undefined ? { launchType: p.LaunchType } : {}),
    ...(p.CapacityProviderStrategy !== undefined ? { capacityProviderStrategy: p.CapacityProviderStrategy } : {}),
    ...(vpc
      ? {
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: vpc.Subnets,
              ...(vpc.SecurityGroups !== undefined ? { securityGroups: vpc.SecurityGroups } : {}),
              ...(vpc.AssignPublicIp !== undefined ? { assignPublicIp: vpc.AssignPublicIp } : {}),
            },
          },
        }
      : {}),
    ...(p.PlatformVersion !== undefined ? { platformVersion: p.PlatformVersion } : {}),
    ...(p.Group !== undefined ? { group: p.Group } : {}),
    ...(p.PlacementConstraints !== undefined ? { placementConstraints: p.PlacementConstraints as RunTaskRequest['placementConstraints'] } : {}),
    ...(p.PlacementStrategy !== undefined ? { placementStrategy: p.PlacementStrategy as RunTaskRequest['placementStrategy'] } : {}),
    ...(p.PropagateTags !== undefined ? { propagateTags: p.PropagateTags } : {}),
    ...(p.ReferenceId !== undefined ? { referenceId: p.ReferenceId } : {}),
    ...(p.Tags !== undefined ? { tags: p.Tags.map((t) => ({ key: t.Key, value: t.Value })) } : {}),
    ...(p.EnableECSManagedTags !== undefined ? { enableECSManagedTags: p.EnableECSManagedTags } : {}),
    ...(p.EnableExecuteCommand !== undefined ? { enableExecuteCommand: p.EnableExecuteCommand } : {}),
    ...overridesOf(input),
  };
}

function overridesOf(input: string): { overrides?: TaskOverride } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const picked = Object.fromEntries(OVERRIDE_KEYS.filter((k) => k in parsed).map((k) => [k, (parsed as Record<string, unknown>)[k]]));
  return Object.keys(picked).length > 0 ? { overrides: picked as TaskOverride } : {};
}
