/**
 * The messages berth answers with where ECS's own wording is known, in one table, each with where that
 * wording is known from. Clients match on these strings (deploy actions print them, scripts grep them),
 * so a handler uses the entry here rather than words of its own; berth's own messages (for situations
 * whose ECS wording is not known) stay beside the code that throws them.
 *
 * It lives in model/ (not api/ecs/) because pure task-definition rules in model/ need it too, and model/
 * imports nothing above it. docs/api-fidelity.md lists the table; api/ecs/messages-table.test.ts keeps the two alike.
 */

/** Where a wording is known from. */
export const messageSources = {
  failureReasons: 'ECS Developer Guide, "API failure reasons" (MISSING for every Describe*)',
  issue11: 'ECS\'s answer as quoted by a client in issue 11',
  clients: 'ECS\'s answer as handled by public client code (comments and tests quoting it)',
} as const;

export type MessageSource = keyof typeof messageSources;

export interface EcsMessage {
  /** The error type (or `failure` for a Describe*'s per-item failure reason) ECS answers with. */
  readonly type: string;
  readonly text: string;
  readonly source: MessageSource;
}

export const ecsMessages = {
  clusterNotFound: { type: 'ClusterNotFoundException', text: 'Cluster not found.', source: 'clients' },
  clusterContainsServices: {
    type: 'ClusterContainsServicesException',
    text: 'The Cluster cannot be deleted while Services are active.',
    source: 'clients',
  },
  clusterContainsInstances: {
    type: 'ClusterContainsContainerInstancesException',
    text: 'The Cluster cannot be deleted while Container Instances are active or draining.',
    source: 'clients',
  },
  clusterContainsTasks: { type: 'ClusterContainsTasksException', text: 'The Cluster cannot be deleted while Tasks are active.', source: 'clients' },
  serviceNotFound: { type: 'ServiceNotFoundException', text: 'Service not found.', source: 'clients' },
  serviceNotActive: { type: 'ServiceNotActiveException', text: 'Service was not ACTIVE.', source: 'clients' },
  missing: { type: 'failure', text: 'MISSING', source: 'failureReasons' },
  servicesEmpty: { type: 'InvalidParameterException', text: 'Services cannot be empty.', source: 'clients' },
  tasksEmpty: { type: 'InvalidParameterException', text: 'Tasks cannot be empty.', source: 'issue11' },
  containerInstancesEmpty: { type: 'ClientException', text: 'Container Instances cannot be empty.', source: 'issue11' },
  taskSetsEmpty: { type: 'InvalidParameterException', text: 'TaskSets cannot be empty.', source: 'clients' },
  taskDefinitionNotDescribable: { type: 'ClientException', text: 'Unable to describe task definition.', source: 'clients' },
  revisionMissing: { type: 'ClientException', text: 'Revision is missing.', source: 'issue11' },
  taskDefinitionInvalidId: {
    type: 'failure',
    text: 'The specified task definition identifier is invalid. Specify a valid name or ARN and try again.',
    source: 'issue11',
  },
  taskDefinitionDoesNotExist: {
    type: 'failure',
    text: 'The specified task definition does not exist. Specify a valid account, family, revision and try again.',
    source: 'issue11',
  },
  taskDefinitionStillActive: {
    type: 'failure',
    text: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
    source: 'issue11',
  },
  fargatePidModeHost: {
    type: 'ClientException',
    text: "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.",
    source: 'issue11',
  },
  efsAccessPointRootDirectory: {
    type: 'ClientException',
    text: 'Invalid request provided: Create TaskDefinition: When using an EFS access point, the root directory must either be set to "/" or be omitted.',
    source: 'clients',
  },
  runningTasksOnInstance: { type: 'InvalidParameterException', text: 'Found running tasks on the instance.', source: 'issue11' },
  noContainerInstances: { type: 'InvalidParameterException', text: 'No Container Instances were found in your cluster.', source: 'clients' },
  taskNotFound: { type: 'InvalidParameterException', text: 'The referenced task was not found.', source: 'clients' },
} as const satisfies Record<string, EcsMessage>;

export type EcsMessageId = keyof typeof ecsMessages;

/** The text of a message of the table. */
export const ecsMessage = (id: EcsMessageId): string => ecsMessages[id].text;
