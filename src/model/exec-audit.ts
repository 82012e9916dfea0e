import type { ContainerDefinition, ExecuteCommandConfiguration } from '@aws-sdk/client-ecs';
import type { Wire } from './wire.js';

/** Where an ECS Exec session is recorded: who ran what, the exit code, and the session's output. */
export interface ExecAuditTarget {
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** Named by the cluster's OVERRIDE configuration (checked to exist when the session is asked for). */
  readonly fromOverride: boolean;
}

/**
 * The log group a session goes to, following the cluster's executeCommandConfiguration as ECS does:
 * - NONE: nowhere;
 * - OVERRIDE: `logConfiguration.cloudWatchLogGroupName` when given (nowhere without one: berth has no S3);
 * - DEFAULT, or no configuration: the container's own `awslogs` group, when it logs with awslogs.
 * The stream is the session's id, one stream per session.
 */
export function execAuditTarget(
  configuration: Wire<ExecuteCommandConfiguration> | undefined,
  container: Wire<ContainerDefinition> | undefined,
  sessionId: string,
): ExecAuditTarget | undefined {
  const logging = configuration?.logging ?? 'DEFAULT';
  if (logging === 'NONE') return undefined;
  if (logging === 'OVERRIDE') {
    const group = configuration?.logConfiguration?.cloudWatchLogGroupName;
    return group ? { logGroupName: group, logStreamName: sessionId, fromOverride: true } : undefined;
  }
  const log = container?.logConfiguration;
  const group = log?.logDriver === 'awslogs' ? log.options?.['awslogs-group'] : undefined;
  return group ? { logGroupName: group, logStreamName: sessionId, fromOverride: false } : undefined;
}

/** The audit record's lines (JSON, one per event), so a FilterLogEvents pattern like `{ $.event = "start" }` finds them. */
export function execAuditLine(event: 'start', fields: { sessionId: string; principalArn: string; clusterArn: string; taskArn: string; containerName: string; command: string; tty: boolean }): string;
export function execAuditLine(event: 'end', fields: { sessionId: string; principalArn: string; exitCode: number | null; reason: string; durationMs: number }): string;
export function execAuditLine(event: 'start' | 'end', fields: object): string {
  return JSON.stringify({ event, ...fields });
}
