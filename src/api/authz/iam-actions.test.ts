import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logsActions } from '../../logs/iam-actions.js';
import { logsService } from '../../logs/index.js';
import type { LogsEnv } from '../../logs/env.js';
import { registryActionOf } from '../../registry/http/iam-actions.js';
import type { EcrEnv } from '../ecr/env.js';
import { ecrActions } from '../ecr/iam-actions.js';
import { ecrService } from '../ecr/index.js';
import type { EcsEnv } from '../ecs/env.js';
import { ecsActions } from '../ecs/iam-actions.js';
import { ecsService } from '../ecs/index.js';
import { iamActions } from '../iam/iam-actions.js';
import type { IamEnv } from '../iam/env.js';
import { iamService } from '../iam/index.js';
import { stsService, type StsEnv } from '../sts/index.js';
import { elbv2Service } from '../../elb/elbv2-service.js';
import type { ElbEnv } from '../../elb/env.js';
import { elbActions } from '../../elb/iam-actions.js';
import { lbNodeService } from '../../elb/lb-node-service.js';
import { cloudwatchServices } from '../../metrics/api/cloudwatch-service.js';
import type { MetricsEnv } from '../../metrics/api/env.js';
import { ssmActions } from '../../parameters/iam-actions.js';
import type { ParametersEnv } from '../../parameters/parameter-store.js';
import { parameterStoreService } from '../../parameters/ssm-service.js';
import type { SecretsEnv } from '../../secrets/secret-vault.js';
import { secretsManagerService } from '../../secrets/secretsmanager-service.js';
import { cloudMapService } from '../../cloudmap/cloudmap-service.js';
import type { CloudMapEnv } from '../../cloudmap/catalog.js';
import { autoScalingService } from '../../autoscaling/autoscaling-service.js';
import type { AutoScalingEnv } from '../../autoscaling/env.js';
import type { EventsEnv } from '../../events/env.js';
import { eventsService } from '../../events/events-service.js';
import type { SqsEnv } from '../../queues/env.js';
import { sqsServices } from '../../queues/sqs-service.js';
import { schedulerActions } from '../../events/scheduler/iam-actions.js';
import { schedulerService } from '../../events/scheduler/service.js';
import type { HostGroupEnv } from '../../hostgroups/env.js';
import { hostGroupsService } from '../../hostgroups/host-groups-service.js';
import { efsService } from '../../efs/efs-service.js';
import type { EfsEnv } from '../../efs/file-systems.js';
import { storageNodeService } from '../../efs/storage-node-service.js';
import type { ActionTable, RequestContext } from './declarations.js';

/**
 * DESIGN.md: "A new API that forgets to declare fails a test." Every model under models/ belongs to a service
 * listed here, and every operation each service dispatches (served, or answering that its part is missing) has
 * an IAM declaration. A service added to berth is added here with its table.
 */
interface Served {
  readonly name: string;
  /** The IAM service prefix its actions carry. */
  readonly prefix: string;
  readonly model: { readonly metadata: { readonly uid?: string; readonly targetPrefix?: string; readonly endpointPrefix?: string }; readonly operations: object };
  readonly operations: object;
  readonly actions: ActionTable;
}
// Building the services only makes closures over their environments: nothing is called.
const json = (s: ReturnType<typeof ecsService>, prefix: string): Served => ({ name: s.targetPrefix, prefix, model: s.model, operations: s.operations, actions: s.actions });
const query = (s: ReturnType<typeof iamService>): Served => ({ name: s.signingName, prefix: s.signingName, model: s.model, operations: s.operations, actions: s.actions });
const served: readonly Served[] = [
  json(ecsService({} as EcsEnv), 'ecs'),
  json(ecrService({ registry: {} } as unknown as EcrEnv), 'ecr'),
  json(logsService({} as LogsEnv), 'logs'),
  json(secretsManagerService({} as SecretsEnv), 'secretsmanager'),
  json(parameterStoreService({} as ParametersEnv), 'ssm'),
  json(cloudMapService({ scope: { region: 'us-east-1', accountId: '123456789012' } } as CloudMapEnv), 'servicediscovery'),
  query(iamService({} as IamEnv)),
  query(stsService({} as StsEnv)),
  query(elbv2Service({} as ElbEnv)),
  // EC2 Auto Scaling: host groups.
  query(hostGroupsService({} as HostGroupEnv)),
  // CloudWatch: one implementation behind the Query, JSON 1.0 and CBOR codecs (the JSON view's table is the same).
  json(cloudwatchServices({} as MetricsEnv).json, 'cloudwatch'),
  json(autoScalingService({ scope: { region: 'us-east-1', accountId: '123456789012' } } as AutoScalingEnv), 'application-autoscaling'),
  json(eventsService({ scope: { region: 'us-east-1', accountId: '123456789012' } } as EventsEnv), 'events'),
  json(sqsServices({} as SqsEnv).json, 'sqs'),
  // EventBridge Scheduler speaks REST-JSON; its model has no target prefix, so it is known by its endpoint prefix.
  { ...json(schedulerService({ scope: { region: 'us-east-1', accountId: '123456789012' } } as EventsEnv), 'scheduler'), name: 'scheduler' },
  // berth's own: the data plane's reports (its model is in code, not under models/).
  json(lbNodeService({} as ElbEnv), 'berth-lb'),
  // A storage host's reports are berth's own; an agent resolving a task's mount is authorized as EFS's ClientMount.
  { ...json(storageNodeService({} as Parameters<typeof storageNodeService>[0]), 'berth-storage'), prefix: '(?:berth-storage|elasticfilesystem)' },
  // EFS is REST-JSON: named here by its endpoint prefix, the key its model file has.
  { name: 'elasticfilesystem', prefix: 'elasticfilesystem', ...efsService({ scope: { region: 'us-east-1', accountId: '123456789012' } } as unknown as EfsEnv) },
];
/** How a model file names its service: the JSON protocol's target prefix, else its endpoint prefix (iam, sts). */
const serviceKey = (metadata: Served['model']['metadata']) => metadata.targetPrefix ?? metadata.endpointPrefix;

const modelMetadata = (file: string): Served['model']['metadata'] =>
  (JSON.parse(readFileSync(new URL(`../../../models/${file}`, import.meta.url), 'utf8')) as Served['model']).metadata;

const scope = { region: 'us-east-1', accountId: '123456789012' } as const;

describe('declarations cover every served operation', () => {
  it('every model under models/ is a listed service', () => {
    const models = readdirSync(new URL('../../../models/', import.meta.url)).filter((f) => f.endsWith('.json') && !f.includes('.examples.') && !f.includes('.paginators.'));
    const listed = served.map((s) => s.name);
    expect(models.length).toBeGreaterThan(0);
    for (const file of models) {
      expect(
        served.some((s) => serviceKey(s.model.metadata) === serviceKey(modelMetadata(file))),
        `models/${file} has no service in this test's list (${listed.join(', ')}): add it with its IAM declarations`,
      ).toBe(true);
    }
  });

  for (const service of served) {
    it(`${service.name}: every dispatched operation declares its IAM action`, () => {
      const prefix = `${service.prefix}:`;
      const missing = Object.keys(service.operations).filter((op) => !Object.hasOwn(service.actions, op));
      expect(missing, `operations without a declaration in ${service.name}`).toEqual([]);
      for (const [op, declaration] of Object.entries(service.actions)) {
        expect(declaration.action, op).toMatch(new RegExp(`^${prefix}[A-Z][A-Za-z]+$`));
        expect(Object.hasOwn(service.model.operations, op), `${op} is not an operation of the model`).toBe(true);
      }
    });
  }
});

/**
 * A sample checked against the Service Authorization Reference's tables (action, resource type, condition
 * keys), with requests as clients send them.
 */
interface Sample {
  readonly table: ActionTable;
  readonly op: string;
  readonly input: object;
  readonly action: string;
  readonly resources: readonly string[];
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  readonly passed?: readonly { roleArn: string; service: string }[];
}

const ecs = (r: string) => `arn:aws:ecs:us-east-1:123456789012:${r}`;
const iam = (r: string) => `arn:aws:iam::123456789012:${r}`;
const samples: readonly Sample[] = [
  {
    table: schedulerActions,
    op: 'CreateSchedule',
    input: { Name: 'nightly', GroupName: 'jobs', Target: { Arn: ecs('cluster/default'), RoleArn: iam('role/run') } },
    action: 'scheduler:CreateSchedule',
    resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/jobs/nightly'],
    passed: [{ roleArn: iam('role/run'), service: 'scheduler.amazonaws.com' }],
  },
  {
    table: schedulerActions,
    op: 'TagResource',
    input: { ResourceArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/jobs', Tags: [{ Key: 'team', Value: 'data' }] },
    action: 'scheduler:TagResource',
    resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule-group/jobs'],
    context: { 'aws:RequestTag/team': 'data', 'aws:TagKeys': ['team'] },
  },
  { table: iamActions, op: 'CreateUser', input: { UserName: 'bob', Path: '/ops/' }, action: 'iam:CreateUser', resources: [iam('user/ops/bob')] },
  {
    table: iamActions,
    op: 'AttachUserPolicy',
    input: { UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
    action: 'iam:AttachUserPolicy',
    resources: [iam('user/bob')],
    context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
  },
  { table: iamActions, op: 'PutRolePolicy', input: { RoleName: 'r', PolicyName: 'p', PolicyDocument: '{}' }, action: 'iam:PutRolePolicy', resources: [iam('role/r')] },
  { table: iamActions, op: 'ListUsers', input: {}, action: 'iam:ListUsers', resources: [] },
  {
    table: elbActions,
    op: 'CreateLoadBalancer',
    input: { Name: 'web', Type: 'network', Tags: [{ Key: 'team', Value: 'edge' }] },
    action: 'elasticloadbalancing:CreateLoadBalancer',
    resources: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/*'],
    context: { 'aws:RequestTag/team': 'edge', 'aws:TagKeys': ['team'] },
  },
  {
    table: elbActions,
    op: 'RegisterTargets',
    input: { TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef', Targets: [{ Id: '10.0.0.1' }] },
    action: 'elasticloadbalancing:RegisterTargets',
    resources: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef'],
  },
  { table: elbActions, op: 'DescribeTargetHealth', input: { TargetGroupArn: 'x' }, action: 'elasticloadbalancing:DescribeTargetHealth', resources: [] },
  { table: ssmActions, op: 'GetParameter', input: { Name: '/app/db:3' }, action: 'ssm:GetParameter', resources: ['arn:aws:ssm:us-east-1:123456789012:parameter/app/db'] },
  {
    table: ssmActions,
    op: 'GetParameters',
    input: { Names: ['plain', 'arn:aws:ssm:us-east-1:123456789012:parameter/x'] },
    action: 'ssm:GetParameters',
    resources: ['arn:aws:ssm:us-east-1:123456789012:parameter/plain', 'arn:aws:ssm:us-east-1:123456789012:parameter/x'],
  },
  { table: ecsActions, op: 'ListClusters', input: {}, action: 'ecs:ListClusters', resources: [] },
  { table: ecsActions, op: 'DescribeClusters', input: { clusters: ['a', ecs('cluster/b')] }, action: 'ecs:DescribeClusters', resources: [ecs('cluster/a'), ecs('cluster/b')] },
  { table: ecsActions, op: 'DescribeClusters', input: {}, action: 'ecs:DescribeClusters', resources: [ecs('cluster/default')] },
  { table: ecsActions, op: 'DescribeTaskDefinition', input: { taskDefinition: 'web:3' }, action: 'ecs:DescribeTaskDefinition', resources: [] },
  {
    table: ecsActions,
    op: 'RunTask',
    input: { cluster: 'prod', taskDefinition: 'web:3', tags: [{ key: 'team', value: 'a' }], overrides: { taskRoleArn: 'app' } },
    action: 'ecs:RunTask',
    resources: [ecs('task-definition/web:3')],
    context: { 'ecs:cluster': ecs('cluster/prod'), 'aws:RequestTag/team': 'a', 'aws:TagKeys': ['team'] },
    passed: [{ roleArn: 'arn:aws:iam::123456789012:role/app', service: 'ecs-tasks.amazonaws.com' }],
  },
  {
    table: ecsActions,
    op: 'StartTask',
    input: { taskDefinition: 'web', containerInstances: ['i1'] },
    action: 'ecs:StartTask',
    resources: [ecs('task-definition/web:*')],
    context: { 'ecs:cluster': ecs('cluster/default'), 'ecs:container-instances': [ecs('container-instance/default/i1')] },
  },
  {
    table: ecsActions,
    op: 'DescribeServices',
    input: { cluster: 'prod', services: ['api'] },
    action: 'ecs:DescribeServices',
    resources: [ecs('service/prod/api')],
    context: { 'ecs:cluster': ecs('cluster/prod') },
  },
  {
    table: ecsActions,
    op: 'CreateService',
    input: { cluster: 'prod', serviceName: 'api', taskDefinition: 'web:1', role: 'arn:aws:iam::123456789012:role/ecsServiceRole' },
    action: 'ecs:CreateService',
    resources: [ecs('service/prod/api')],
    context: { 'ecs:cluster': ecs('cluster/prod'), 'ecs:task-definition': ecs('task-definition/web:1') },
    passed: [{ roleArn: 'arn:aws:iam::123456789012:role/ecsServiceRole', service: 'ecs.amazonaws.com' }],
  },
  { table: ecsActions, op: 'ListTasks', input: { cluster: 'prod' }, action: 'ecs:ListTasks', resources: [], context: { 'ecs:cluster': ecs('cluster/prod') } },
  { table: ecsActions, op: 'ListServices', input: { cluster: 'prod' }, action: 'ecs:ListServices', resources: [], context: { 'ecs:cluster': ecs('cluster/prod') } },
  { table: ecsActions, op: 'StopTask', input: { cluster: 'prod', task: 'abc' }, action: 'ecs:StopTask', resources: [ecs('task/prod/abc')], context: { 'ecs:cluster': ecs('cluster/prod') } },
  { table: ecsActions, op: 'ListContainerInstances', input: { cluster: 'prod' }, action: 'ecs:ListContainerInstances', resources: [ecs('cluster/prod')] },
  { table: ecsActions, op: 'SubmitTaskStateChange', input: { cluster: 'prod' }, action: 'ecs:SubmitTaskStateChange', resources: [ecs('cluster/prod')] },
  {
    table: ecsActions,
    op: 'RegisterTaskDefinition',
    input: { family: 'web', taskRoleArn: 'arn:aws:iam::123456789012:role/t', executionRoleArn: 'x' },
    action: 'ecs:RegisterTaskDefinition',
    resources: [],
    passed: [
      { roleArn: 'arn:aws:iam::123456789012:role/t', service: 'ecs-tasks.amazonaws.com' },
      { roleArn: 'arn:aws:iam::123456789012:role/x', service: 'ecs-tasks.amazonaws.com' },
    ],
  },
  { table: ecsActions, op: 'UntagResource', input: { resourceArn: ecs('cluster/a'), tagKeys: ['k'] }, action: 'ecs:UntagResource', resources: [ecs('cluster/a')], context: { 'aws:TagKeys': ['k'] } },
  { table: ecrActions, op: 'GetAuthorizationToken', input: {}, action: 'ecr:GetAuthorizationToken', resources: [] },
  { table: ecrActions, op: 'PutImage', input: { repositoryName: 'app/web' }, action: 'ecr:PutImage', resources: ['arn:aws:ecr:us-east-1:123456789012:repository/app/web'] },
  {
    table: ecrActions,
    op: 'CreateRepository',
    input: { repositoryName: 'r', tags: [{ Key: 'team', Value: 'a' }] },
    action: 'ecr:CreateRepository',
    resources: ['arn:aws:ecr:us-east-1:123456789012:repository/r'],
    context: { 'aws:RequestTag/team': 'a', 'aws:TagKeys': ['team'] },
  },
  {
    table: logsActions,
    op: 'PutLogEvents',
    input: { logGroupName: '/ecs/app', logStreamName: 's' },
    action: 'logs:PutLogEvents',
    resources: ['arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:log-stream:s'],
  },
  {
    table: logsActions,
    op: 'DescribeLogStreams',
    input: { logGroupIdentifier: 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*' },
    action: 'logs:DescribeLogStreams',
    resources: ['arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*'],
  },
  {
    table: logsActions,
    op: 'CreateLogGroup',
    input: { logGroupName: 'g', tags: { env: 'prod' } },
    action: 'logs:CreateLogGroup',
    resources: ['arn:aws:logs:us-east-1:123456789012:log-group:g:*'],
    context: { 'aws:RequestTag/env': 'prod', 'aws:TagKeys': ['env'] },
  },
];

describe('declarations agree with the Service Authorization Reference (sample)', () => {
  it.each(samples.map((s) => [`${s.action} ${JSON.stringify(s.input)}`, s] as const))('%s', (_label, s) => {
    const declaration = s.table[s.op]!;
    expect(declaration.action).toBe(s.action);
    expect(declaration.resources(s.input, scope)).toEqual(s.resources);
    const context: RequestContext = new Map();
    declaration.context?.(s.input, scope, context);
    expect(Object.fromEntries(context)).toEqual(s.context ?? {});
    expect(declaration.passedRoles?.(s.input, scope) ?? []).toEqual(s.passed ?? []);
  });
});

describe('registry requests', () => {
  const repo = 'arn:aws:ecr:us-east-1:123456789012:repository/app';
  it.each([
    ['GET', { kind: 'manifest', name: 'app', reference: 'latest' }, 'ecr:BatchGetImage'],
    ['HEAD', { kind: 'manifest', name: 'app', reference: 'latest' }, 'ecr:BatchGetImage'],
    ['GET', { kind: 'blob', name: 'app', digest: 'sha256:x' }, 'ecr:GetDownloadUrlForLayer'],
    ['HEAD', { kind: 'blob', name: 'app', digest: 'sha256:x' }, 'ecr:BatchCheckLayerAvailability'],
    ['POST', { kind: 'uploads', name: 'app' }, 'ecr:InitiateLayerUpload'],
    ['PATCH', { kind: 'upload', name: 'app', id: 'u' }, 'ecr:UploadLayerPart'],
    ['PUT', { kind: 'upload', name: 'app', id: 'u' }, 'ecr:CompleteLayerUpload'],
    ['PUT', { kind: 'manifest', name: 'app', reference: 'latest' }, 'ecr:PutImage'],
    ['DELETE', { kind: 'manifest', name: 'app', reference: 'sha256:x' }, 'ecr:BatchDeleteImage'],
    ['GET', { kind: 'tags', name: 'app' }, 'ecr:ListImages'],
  ] as const)('%s %j is %s on the repository', (method, route, action) => {
    expect(registryActionOf(method, route)).toEqual({ action, name: 'app' });
    expect(repo).toContain('repository/app');
  });
});
