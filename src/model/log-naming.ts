/**
 * Where a container's output is kept in the log service, with the awslogs driver's naming as ECS uses it.
 * Pure, so that the agent's shipper (which writes) and `berth logs` (which reads) compute the same names.
 *
 *   logDriver awslogs      group  = options['awslogs-group']   (the default group when the option is missing)
 *                          stream = `${awslogs-stream-prefix}/${containerName}/${taskId}` with a prefix,
 *                                   else the container's runtime id (Docker's awslogs uses the container id)
 *   logDriver none         nothing is kept
 *   anything else / unset  group  = `/berth/<cluster>`, stream = `<family>/<containerName>/<taskId>`
 */

/** A log group and stream, CloudWatch Logs' two-level naming. */
export interface LogDestination {
  readonly group: string;
  readonly stream: string;
  /** True when the names came from an awslogs configuration, false for berth's default group. */
  readonly awslogs: boolean;
}

export interface LogNamingInput {
  /** Cluster name or ARN. */
  readonly cluster: string;
  readonly family: string;
  readonly containerName: string;
  /** Task ARN or bare task id. */
  readonly taskArn: string;
  /** The runtime's container id: the stream name for awslogs without a stream prefix. */
  readonly runtimeId: string;
  readonly logConfiguration?: { readonly logDriver?: string; readonly options?: Readonly<Record<string, string>> } | undefined;
}

export const DEFAULT_LOG_GROUP_PREFIX = '/berth/';

/** The last path segment of an ARN (`…:task/cluster/abc` → `abc`), or the value itself when it is not an ARN. */
const lastSegment = (ref: string) => (ref.startsWith('arn:') ? (ref.split('/').at(-1) ?? ref) : ref);

/** The group berth ships to when a container has no awslogs configuration. */
export function defaultLogGroup(cluster: string): string {
  return `${DEFAULT_LOG_GROUP_PREFIX}${lastSegment(cluster)}`;
}

/** Where `input`'s output goes, or undefined when its log driver is `none` (nothing is shipped). */
export function logDestination(input: LogNamingInput): LogDestination | undefined {
  const { logConfiguration: config, containerName } = input;
  const taskId = lastSegment(input.taskArn);
  if (config?.logDriver === 'none') return undefined;
  if (config?.logDriver === 'awslogs') {
    const group = config.options?.['awslogs-group'];
    const prefix = config.options?.['awslogs-stream-prefix'];
    if (group) {
      return { group, stream: prefix ? `${prefix}/${containerName}/${taskId}` : input.runtimeId, awslogs: true };
    }
  }
  return { group: defaultLogGroup(input.cluster), stream: `${input.family}/${containerName}/${taskId}`, awslogs: false };
}
