/**
 * The ECS API's IAM declarations, after the Service Authorization Reference ("Actions, resources, and condition
 * keys for Amazon Elastic Container Service"): each action's resource type (cluster, service, task, container
 * instance, task definition, capacity provider, task set, service deployment/revision, or none: `*`), the
 * `ecs:cluster`, `ecs:service`, `ecs:task-definition` and `ecs:container-instances` keys where AWS sets them,
 * request tags, and the roles a request passes (`iam:PassRole`, to ecs-tasks.amazonaws.com for task and
 * execution roles, to ecs.amazonaws.com for a service's role).
 *
 * References are taken as ECS takes them: a full ARN as given, else a name or id in this account and region
 * under the request's cluster (an omitted cluster is `default`). A task definition RunTask or StartTask names by
 * family alone is authorized as its latest ACTIVE revision, read first as ECS does since March 2024
 * (`ecsActionsResolving`); elsewhere (and for a family with no ACTIVE revision) as `task-definition/<family>:*`.
 */
import { ecsArn, roleArn, type ArnScope, type EcsResourceType } from '../../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable, type PassedRole, type RequestContext } from '../authz/declarations.js';

const TASKS_SERVICE = 'ecs-tasks.amazonaws.com';
const ECS_SERVICE = 'ecs.amazonaws.com';

interface Clustered {
  readonly cluster?: string;
}

const clusterName = (ref: string | undefined): string =>
  ref === undefined || ref === '' ? 'default' : ref.startsWith('arn:') ? ref.slice(ref.indexOf('/') + 1) : ref;

/** A cluster's ARN from a name or ARN. */
export const clusterArnOf = (scope: ArnScope, ref: string | undefined): string =>
  ref?.startsWith('arn:') ? ref : ecsArn(scope, 'cluster', clusterName(ref));

/** A resource under a cluster (`task/<cluster>/<id>`) from an id, name or ARN. */
const underCluster = (scope: ArnScope, type: EcsResourceType, cluster: string | undefined, ref: string): string =>
  ref.startsWith('arn:') ? ref : ecsArn(scope, type, `${clusterName(cluster)}/${ref}`);

/** A task definition's ARN from `family:revision`, `family` or an ARN. */
export const taskDefinitionArnOf = (scope: ArnScope, ref: string): string =>
  ref.startsWith('arn:') ? ref : ecsArn(scope, 'task-definition', ref.includes(':') ? ref : `${ref}:*`);

const withCluster = (input: Clustered, scope: ArnScope, into: RequestContext) => {
  into.set('ecs:cluster', clusterArnOf(scope, input.cluster));
};

/** Declarations of actions whose resource is their cluster. */
const onCluster = (action: string, context?: ActionDeclaration<Clustered>['context']): ActionDeclaration<Clustered> => ({
  action,
  resources: (input, scope) => [clusterArnOf(scope, input.cluster)],
  ...(context ? { context } : {}),
});

/** Declarations of actions on a list of resources under one cluster, with `ecs:cluster`. */
function onEach<I extends Clustered>(action: string, type: EcsResourceType, refs: (input: I) => readonly string[] | undefined, whenNone?: string): ActionDeclaration<I> {
  return {
    action,
    resources: (input, scope) => {
      const list = refs(input);
      if (!list || list.length === 0) return whenNone === undefined ? [] : [underCluster(scope, type, input.cluster, whenNone)];
      return list.map((ref) => underCluster(scope, type, input.cluster, ref));
    },
    context: withCluster,
  };
}

const one = (ref: string | undefined) => (ref === undefined ? undefined : [ref]);

/** Roles a task launch passes through its overrides. */
function overrideRoles(input: { overrides?: { taskRoleArn?: string; executionRoleArn?: string } }, scope: ArnScope): readonly PassedRole[] {
  const roles: PassedRole[] = [];
  const o = input.overrides;
  if (o?.taskRoleArn) roles.push({ roleArn: roleArn(scope, o.taskRoleArn), service: TASKS_SERVICE });
  if (o?.executionRoleArn) roles.push({ roleArn: roleArn(scope, o.executionRoleArn), service: TASKS_SERVICE });
  return roles;
}

interface Launch extends Clustered {
  readonly taskDefinition: string;
  readonly tags?: readonly { key?: string; value?: string }[];
  readonly containerInstances?: readonly string[];
  readonly overrides?: { taskRoleArn?: string; executionRoleArn?: string };
}

const launch = (action: string): ActionDeclaration<Launch> => ({
  action,
  resources: (input, scope) => [taskDefinitionArnOf(scope, input.taskDefinition)],
  context: (input, scope, into) => {
    withCluster(input, scope, into);
    if (input.containerInstances) {
      into.set('ecs:container-instances', input.containerInstances.map((ref) => underCluster(scope, 'container-instance', input.cluster, ref)));
    }
    addTagList(into, input.tags);
  },
  passedRoles: overrideRoles,
});

/** Attribute targets that are container instances (the action's resource type). */
const attributeTargets = (input: Clustered & { attributes?: readonly { targetType?: string; targetId?: string }[] }) =>
  (input.attributes ?? []).flatMap((a) => (a.targetId !== undefined && (a.targetType ?? 'container-instance') === 'container-instance' ? [a.targetId] : []));

const serviceArn = (scope: ArnScope, cluster: string | undefined, service: string) => underCluster(scope, 'service', cluster, service);

const capacityProviderArn = (scope: ArnScope, ref: string) => (ref.startsWith('arn:') ? ref : ecsArn(scope, 'capacity-provider', ref));

/** Every ECS action berth serves, by operation name. */
export const ecsActions: ActionTable = {
  // Account settings and listings with no resource type.
  ListAccountSettings: anyResource('ecs:ListAccountSettings'),
  PutAccountSetting: anyResource('ecs:PutAccountSetting'),
  PutAccountSettingDefault: anyResource('ecs:PutAccountSettingDefault'),
  DeleteAccountSetting: anyResource('ecs:DeleteAccountSetting'),
  ListClusters: anyResource('ecs:ListClusters'),
  ListTaskDefinitions: anyResource('ecs:ListTaskDefinitions'),
  ListTaskDefinitionFamilies: anyResource('ecs:ListTaskDefinitionFamilies'),
  DescribeTaskDefinition: anyResource('ecs:DescribeTaskDefinition'),
  DeregisterTaskDefinition: anyResource('ecs:DeregisterTaskDefinition'),
  DiscoverPollEndpoint: anyResource('ecs:DiscoverPollEndpoint'),
  ListServicesByNamespace: anyResource('ecs:ListServicesByNamespace'),
  ListServices: { action: 'ecs:ListServices', resources: () => [], context: withCluster },

  // Clusters.
  CreateCluster: {
    action: 'ecs:CreateCluster',
    resources: () => [],
    context: (input: { tags?: { key?: string; value?: string }[] }, _scope, into) => addTagList(into, input.tags),
  },
  DescribeClusters: {
    action: 'ecs:DescribeClusters',
    resources: (input: { clusters?: string[] }, scope) =>
      input.clusters && input.clusters.length > 0 ? input.clusters.map((c) => clusterArnOf(scope, c)) : [clusterArnOf(scope, undefined)],
  },
  DeleteCluster: onCluster('ecs:DeleteCluster'),
  UpdateCluster: onCluster('ecs:UpdateCluster'),
  UpdateClusterSettings: onCluster('ecs:UpdateClusterSettings'),
  PutClusterCapacityProviders: onCluster('ecs:PutClusterCapacityProviders'),
  ListContainerInstances: onCluster('ecs:ListContainerInstances'),
  ListAttributes: onCluster('ecs:ListAttributes'),
  RegisterContainerInstance: onCluster('ecs:RegisterContainerInstance', (input: Clustered & { tags?: { key?: string; value?: string }[] }, _scope, into) =>
    addTagList(into, input.tags),
  ),
  DeregisterContainerInstance: onCluster('ecs:DeregisterContainerInstance'),
  SubmitTaskStateChange: onCluster('ecs:SubmitTaskStateChange'),
  SubmitContainerStateChange: onCluster('ecs:SubmitContainerStateChange'),
  SubmitAttachmentStateChanges: onCluster('ecs:SubmitAttachmentStateChanges'),

  // Container instances.
  DescribeContainerInstances: onEach('ecs:DescribeContainerInstances', 'container-instance', (i: Clustered & { containerInstances?: string[] }) => i.containerInstances),
  UpdateContainerAgent: onEach('ecs:UpdateContainerAgent', 'container-instance', (i: Clustered & { containerInstance?: string }) => one(i.containerInstance)),
  UpdateContainerInstancesState: onEach('ecs:UpdateContainerInstancesState', 'container-instance', (i: Clustered & { containerInstances?: string[] }) => i.containerInstances),
  PutAttributes: onEach('ecs:PutAttributes', 'container-instance', attributeTargets),
  DeleteAttributes: onEach('ecs:DeleteAttributes', 'container-instance', attributeTargets),

  // Task definitions.
  RegisterTaskDefinition: {
    action: 'ecs:RegisterTaskDefinition',
    resources: () => [],
    context: (input: { tags?: { key?: string; value?: string }[] }, _scope, into) => addTagList(into, input.tags),
    passedRoles: (input: { taskRoleArn?: string; executionRoleArn?: string }, scope) => [
      ...(input.taskRoleArn ? [{ roleArn: roleArn(scope, input.taskRoleArn), service: TASKS_SERVICE }] : []),
      ...(input.executionRoleArn ? [{ roleArn: roleArn(scope, input.executionRoleArn), service: TASKS_SERVICE }] : []),
    ],
  },
  DeleteTaskDefinitions: {
    action: 'ecs:DeleteTaskDefinitions',
    resources: (input: { taskDefinitions?: string[] }, scope) => (input.taskDefinitions ?? []).map((t) => taskDefinitionArnOf(scope, t)),
  },

  // Tasks.
  RunTask: launch('ecs:RunTask'),
  StartTask: launch('ecs:StartTask'),
  DescribeTasks: onEach('ecs:DescribeTasks', 'task', (i: Clustered & { tasks?: string[] }) => i.tasks),
  StopTask: onEach('ecs:StopTask', 'task', (i: Clustered & { task?: string }) => one(i.task)),
  // ListTasks' resource is a container instance; listing a whole cluster is `*` scoped by ecs:cluster.
  ListTasks: onEach('ecs:ListTasks', 'container-instance', (i: Clustered & { containerInstance?: string }) => one(i.containerInstance)),
  GetTaskProtection: onEach('ecs:GetTaskProtection', 'task', (i: Clustered & { tasks?: string[] }) => i.tasks, '*'),
  UpdateTaskProtection: onEach('ecs:UpdateTaskProtection', 'task', (i: Clustered & { tasks?: string[] }) => i.tasks),

  // Services.
  CreateService: {
    action: 'ecs:CreateService',
    resources: (input: Clustered & { serviceName: string }, scope) => [serviceArn(scope, input.cluster, input.serviceName)],
    context: (input: Clustered & { taskDefinition?: string; tags?: { key?: string; value?: string }[] }, scope, into) => {
      withCluster(input, scope, into);
      if (input.taskDefinition) into.set('ecs:task-definition', taskDefinitionArnOf(scope, input.taskDefinition));
      addTagList(into, input.tags);
    },
    passedRoles: (input: { role?: string }, scope) => (input.role ? [{ roleArn: roleArn(scope, input.role), service: ECS_SERVICE }] : []),
  },
  UpdateService: {
    action: 'ecs:UpdateService',
    resources: (input: Clustered & { service: string }, scope) => [serviceArn(scope, input.cluster, input.service)],
    context: (input: Clustered & { taskDefinition?: string }, scope, into) => {
      withCluster(input, scope, into);
      if (input.taskDefinition) into.set('ecs:task-definition', taskDefinitionArnOf(scope, input.taskDefinition));
    },
  },
  DescribeServices: onEach('ecs:DescribeServices', 'service', (i: Clustered & { services?: string[] }) => i.services),
  DeleteService: onEach('ecs:DeleteService', 'service', (i: Clustered & { service?: string }) => one(i.service)),
  UpdateServicePrimaryTaskSet: onEach('ecs:UpdateServicePrimaryTaskSet', 'service', (i: Clustered & { service?: string }) => one(i.service)),
  ListServiceDeployments: onEach('ecs:ListServiceDeployments', 'service', (i: Clustered & { service?: string }) => one(i.service)),
  DescribeServiceDeployments: { action: 'ecs:DescribeServiceDeployments', resources: (input: { serviceDeploymentArns?: string[] }) => input.serviceDeploymentArns ?? [] },
  DescribeServiceRevisions: { action: 'ecs:DescribeServiceRevisions', resources: (input: { serviceRevisionArns?: string[] }) => input.serviceRevisionArns ?? [] },
  StopServiceDeployment: { action: 'ecs:StopServiceDeployment', resources: (input: { serviceDeploymentArn?: string }) => one(input.serviceDeploymentArn) ?? [] },

  // Task sets: under `task-set/<cluster>/<service>/<id>`, with ecs:service.
  CreateTaskSet: taskSetAction('ecs:CreateTaskSet', () => ['*']),
  DescribeTaskSets: taskSetAction('ecs:DescribeTaskSets', (i) => (i.taskSets && i.taskSets.length > 0 ? i.taskSets : ['*'])),
  UpdateTaskSet: taskSetAction('ecs:UpdateTaskSet', (i) => one(i.taskSet) ?? []),
  DeleteTaskSet: taskSetAction('ecs:DeleteTaskSet', (i) => one(i.taskSet) ?? []),

  // Capacity providers.
  CreateCapacityProvider: {
    action: 'ecs:CreateCapacityProvider',
    resources: (input: { name: string }, scope) => [capacityProviderArn(scope, input.name)],
    context: (input: { tags?: { key?: string; value?: string }[] }, _scope, into) => addTagList(into, input.tags),
  },
  DescribeCapacityProviders: {
    action: 'ecs:DescribeCapacityProviders',
    resources: (input: { capacityProviders?: string[] }, scope) => (input.capacityProviders ?? []).map((c) => capacityProviderArn(scope, c)),
  },
  UpdateCapacityProvider: { action: 'ecs:UpdateCapacityProvider', resources: (input: { name: string }, scope) => [capacityProviderArn(scope, input.name)] },
  DeleteCapacityProvider: {
    action: 'ecs:DeleteCapacityProvider',
    resources: (input: { capacityProvider: string }, scope) => [capacityProviderArn(scope, input.capacityProvider)],
  },

  // Actions whose part berth lacks (not-available.ts): declared all the same, so a refusal of the caller comes first.
  ExecuteCommand: {
    action: 'ecs:ExecuteCommand',
    resources: (input: Clustered & { task: string }, scope) => [clusterArnOf(scope, input.cluster), underCluster(scope, 'task', input.cluster, input.task)],
    context: (input: Clustered & { task: string; container?: string }, scope, into) => {
      withCluster(input, scope, into);
      into.set('ecs:task', underCluster(scope, 'task', input.cluster, input.task));
      if (input.container !== undefined) into.set('ecs:container-name', input.container);
    },
  },
  ContinueServiceDeployment: { action: 'ecs:ContinueServiceDeployment', resources: (input: { serviceDeploymentArn?: string }) => one(input.serviceDeploymentArn) ?? [] },
  ...daemonActions(),
  ...expressGatewayActions(),

  // Tags: on the resource named.
  ListTagsForResource: { action: 'ecs:ListTagsForResource', resources: (input: { resourceArn: string }) => [input.resourceArn] },
  TagResource: {
    action: 'ecs:TagResource',
    resources: (input: { resourceArn: string }) => [input.resourceArn],
    context: (input: { tags?: { key?: string; value?: string }[] }, _scope, into) => addTagList(into, input.tags),
  },
  UntagResource: {
    action: 'ecs:UntagResource',
    resources: (input: { resourceArn: string }) => [input.resourceArn],
    context: (input: { tagKeys?: string[] }, _scope, into) => addTagKeys(into, input.tagKeys),
  },
};

interface TaskSetInput extends Clustered {
  readonly service: string;
  readonly taskSet?: string;
  readonly taskSets?: readonly string[];
  readonly taskDefinition?: string;
}

function taskSetAction(action: string, ids: (input: TaskSetInput) => readonly string[]): ActionDeclaration<TaskSetInput> {
  const serviceName = (ref: string) => (ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref);
  return {
    action,
    resources: (input, scope) =>
      ids(input).map((id) => (id.startsWith('arn:') ? id : ecsArn(scope, 'task-set', `${clusterName(input.cluster)}/${serviceName(input.service)}/${id}`))),
    context: (input, scope, into) => {
      withCluster(input, scope, into);
      into.set('ecs:service', serviceArn(scope, input.cluster, input.service));
      if (input.taskDefinition) into.set('ecs:task-definition', taskDefinitionArnOf(scope, input.taskDefinition));
    },
  };
}

/** ECS Managed Daemons: `daemon/<cluster>/<name>` and `daemon-task-definition/<family>:<revision>`. */
function daemonActions(): ActionTable {
  const onArn = (action: string, field: string): ActionDeclaration => ({ action, resources: (input: Record<string, string>) => one(input[field]) ?? [] });
  const onArns = (action: string, field: string): ActionDeclaration => ({ action, resources: (input: Record<string, string[]>) => input[field] ?? [] });
  const daemonTaskDefinition = (scope: ArnScope, ref: string) => (ref.startsWith('arn:') ? ref : `arn:aws:ecs:${scope.region}:${scope.accountId}:daemon-task-definition/${ref}`);
  const roles = (input: { taskRoleArn?: string; executionRoleArn?: string }, scope: ArnScope): PassedRole[] => [
    ...(input.taskRoleArn ? [{ roleArn: roleArn(scope, input.taskRoleArn), service: TASKS_SERVICE }] : []),
    ...(input.executionRoleArn ? [{ roleArn: roleArn(scope, input.executionRoleArn), service: TASKS_SERVICE }] : []),
  ];
  return {
    CreateDaemon: {
      action: 'ecs:CreateDaemon',
      resources: (input: { clusterArn?: string; daemonName: string }, scope) => [
        `arn:aws:ecs:${scope.region}:${scope.accountId}:daemon/${clusterName(input.clusterArn)}/${input.daemonName}`,
      ],
      context: (input: { clusterArn?: string; tags?: { key?: string; value?: string }[] }, scope, into) => {
        into.set('ecs:cluster', clusterArnOf(scope, input.clusterArn));
        addTagList(into, input.tags);
      },
    },
    UpdateDaemon: onArn('ecs:UpdateDaemon', 'daemonArn'),
    DeleteDaemon: onArn('ecs:DeleteDaemon', 'daemonArn'),
    DescribeDaemon: onArn('ecs:DescribeDaemon', 'daemonArn'),
    ListDaemonDeployments: onArn('ecs:ListDaemonDeployments', 'daemonArn'),
    ListDaemons: {
      action: 'ecs:ListDaemons',
      resources: () => [],
      context: (input: { clusterArn?: string }, scope, into) => {
        if (input.clusterArn) into.set('ecs:cluster', clusterArnOf(scope, input.clusterArn));
      },
    },
    DescribeDaemonDeployments: onArns('ecs:DescribeDaemonDeployments', 'daemonDeploymentArns'),
    DescribeDaemonRevisions: onArns('ecs:DescribeDaemonRevisions', 'daemonRevisionArns'),
    ListDaemonTaskDefinitions: anyResource('ecs:ListDaemonTaskDefinitions'),
    DescribeDaemonTaskDefinition: {
      action: 'ecs:DescribeDaemonTaskDefinition',
      resources: (input: { daemonTaskDefinition: string }, scope) => [daemonTaskDefinition(scope, input.daemonTaskDefinition)],
    },
    DeleteDaemonTaskDefinition: {
      action: 'ecs:DeleteDaemonTaskDefinition',
      resources: (input: { daemonTaskDefinition: string }, scope) => [daemonTaskDefinition(scope, input.daemonTaskDefinition)],
    },
    RegisterDaemonTaskDefinition: {
      action: 'ecs:RegisterDaemonTaskDefinition',
      resources: () => [],
      context: (input: { tags?: { key?: string; value?: string }[] }, _scope, into) => addTagList(into, input.tags),
      passedRoles: roles,
    },
  };
}

/** Express Gateway services: services whose task, execution and infrastructure roles are passed. */
function expressGatewayActions(): ActionTable {
  const roles = (input: { taskRoleArn?: string; executionRoleArn?: string; infrastructureRoleArn?: string }, scope: ArnScope): PassedRole[] => [
    ...(input.taskRoleArn ? [{ roleArn: roleArn(scope, input.taskRoleArn), service: TASKS_SERVICE }] : []),
    ...(input.executionRoleArn ? [{ roleArn: roleArn(scope, input.executionRoleArn), service: TASKS_SERVICE }] : []),
    ...(input.infrastructureRoleArn ? [{ roleArn: roleArn(scope, input.infrastructureRoleArn), service: ECS_SERVICE }] : []),
  ];
  const onService = (action: string): ActionDeclaration<{ serviceArn: string }> => ({ action, resources: (input) => [input.serviceArn] });
  return {
    CreateExpressGatewayService: {
      action: 'ecs:CreateExpressGatewayService',
      resources: (input: Clustered & { serviceName?: string }, scope) => [serviceArn(scope, input.cluster, input.serviceName ?? '*')],
      context: (input: Clustered & { tags?: { key?: string; value?: string }[] }, scope, into) => {
        withCluster(input, scope, into);
        addTagList(into, input.tags);
      },
      passedRoles: roles,
    },
    UpdateExpressGatewayService: { ...onService('ecs:UpdateExpressGatewayService'), passedRoles: roles },
    DeleteExpressGatewayService: onService('ecs:DeleteExpressGatewayService'),
    DescribeExpressGatewayService: onService('ecs:DescribeExpressGatewayService'),
  };
}

/**
 * The table the ECS API mounts: RunTask and StartTask given a bare family are authorized on the revision they
 * would launch, `latest(family)` (its ARN, or undefined when the family has no ACTIVE revision).
 */
export function ecsActionsResolving(latest: (family: string) => Promise<string | undefined>): ActionTable {
  const resolving = (declaration: ActionDeclaration<Launch>): ActionDeclaration<Launch> => ({
    ...declaration,
    resolveResources: async (input, scope) => {
      const ref = input.taskDefinition;
      if (ref.startsWith('arn:') || ref.includes(':')) return [taskDefinitionArnOf(scope, ref)];
      return [(await latest(ref)) ?? taskDefinitionArnOf(scope, ref)];
    },
  });
  return { ...ecsActions, RunTask: resolving(launch('ecs:RunTask')), StartTask: resolving(launch('ecs:StartTask')) };
}
