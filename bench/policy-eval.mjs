#!/usr/bin/env node
// Policy evaluations per second of the pure IAM engine (dist/model/iam, so run `npm run build` first), for a
// realistic user: 5 attached policies with 40 statements in all (AmazonEC2ContainerRegistryReadOnly and
// CloudWatchLogsFullAccess as AWS ships them, plus three customer policies with Action/Resource wildcards,
// NotAction, policy variables and conditions on aws:SourceIp, aws:SecureTransport, aws:CurrentTime,
// aws:RequestTag/…, aws:ResourceTag/…, aws:TagKeys, ecs:cluster and iam:PassedToService), asked a fixed mix of
// requests that are allowed, explicitly denied and implicitly denied. One call decides one request (all of its
// resources); the policies are compiled once, as the IAM store keeps them compiled. One thread. Each figure is
// the median of --runs runs of --seconds each, counted per second of this process's CPU time (what one core
// does, even on a machine shared with other work) and per second of wall time (which other load lowers; the
// load average is printed beside it). There is no external peer to compare with: AWS
// evaluates policies inside its services, and no self-hostable IAM engine is installed here.
//
//   node bench/policy-eval.mjs [--runs 5] [--seconds 1]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MANAGED_POLICIES, evaluate, parsePolicyDocument } from '../dist/model/iam/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const A = '111122223333';
const R = 'us-east-1';
const doc = (...Statement) => JSON.stringify({ Version: '2012-10-17', Statement });

const devOps = doc(
  { Sid: 'DescribeEverything', Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*' },
  {
    Sid: 'RunInDevClusters',
    Effect: 'Allow',
    Action: ['ecs:RunTask', 'ecs:StartTask', 'ecs:StopTask'],
    Resource: [`arn:aws:ecs:${R}:${A}:task-definition/*`, `arn:aws:ecs:${R}:${A}:task/dev-*/*`],
    Condition: { ArnLike: { 'ecs:cluster': `arn:aws:ecs:${R}:${A}:cluster/dev-*` } },
  },
  { Sid: 'ServicesInDev', Effect: 'Allow', Action: ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService'], Resource: `arn:aws:ecs:${R}:${A}:service/dev-*/*` },
  { Sid: 'TaskDefinitions', Effect: 'Allow', Action: ['ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition'], Resource: '*' },
  { Sid: 'PassTaskRoles', Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${A}:role/ecs-task-*`, Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
  {
    Sid: 'TagOnCreate',
    Effect: 'Allow',
    Action: 'ecs:TagResource',
    Resource: '*',
    Condition: { StringEquals: { 'aws:RequestTag/team': '${aws:username}' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env', 'cost-center'] } },
  },
  { Sid: 'OwnTaggedResources', Effect: 'Allow', Action: ['ecs:UpdateService', 'ecs:StopTask'], Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } },
  { Sid: 'OwnKeys', Effect: 'Allow', Action: ['iam:*AccessKey*', 'iam:GetUser', 'iam:ChangePassword'], Resource: `arn:aws:iam::${A}:user/\${aws:username}` },
  { Sid: 'AssumeDeployRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${A}:role/deploy-*` },
  { Sid: 'Identity', Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
  { Sid: 'ReadDevSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: `arn:aws:secretsmanager:${R}:${A}:secret:dev/*` },
  { Sid: 'ReadDevParameters', Effect: 'Allow', Action: ['ssm:GetParameter*'], Resource: `arn:aws:ssm:${R}:${A}:parameter/dev/*` },
  { Sid: 'ExecIntoDev', Effect: 'Allow', Action: 'ecs:ExecuteCommand', Resource: `arn:aws:ecs:${R}:${A}:task/dev-*/*` },
  { Sid: 'CapacityProviders', Effect: 'Allow', Action: ['ecs:PutClusterCapacityProviders', 'ecs:CreateCapacityProvider'], Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/role': 'platform' } } },
  { Sid: 'DevInstances', Effect: 'Allow', Action: 'ecs:DeregisterContainerInstance', Resource: `arn:aws:ecs:*:${A}:cluster/dev-?` },
  { Sid: 'OfficeHours', Effect: 'Allow', Action: 'ecs:UpdateContainerInstancesState', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } } },
);
const guardrails = doc(
  { Sid: 'NoProdWrites', Effect: 'Deny', Action: ['ecs:Run*', 'ecs:Start*', 'ecs:Stop*', 'ecs:Update*', 'ecs:Delete*', 'ecs:Create*'], Resource: '*', Condition: { ArnLike: { 'ecs:cluster': `arn:aws:ecs:*:${A}:cluster/prod*` } } },
  { Sid: 'NoProdServices', Effect: 'Deny', Action: 'ecs:*', Resource: `arn:aws:ecs:*:${A}:service/prod*/*` },
  { Sid: 'OnlyFromOffice', Effect: 'Deny', NotAction: ['sts:GetCallerIdentity', 'iam:ChangePassword'], Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.0/24', '10.0.0.0/8'] } } },
  { Sid: 'TlsOnly', Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  { Sid: 'NoRepoDeletes', Effect: 'Deny', Action: ['ecr:Delete*', 'ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy'], Resource: '*' },
  { Sid: 'NoIamAdmin', Effect: 'Deny', Action: ['iam:Create*', 'iam:Delete*', 'iam:Attach*', 'iam:Detach*', 'iam:Put*'], NotResource: `arn:aws:iam::${A}:user/\${aws:username}` },
  { Sid: 'NoProdSecrets', Effect: 'Deny', Action: 'secretsmanager:*', Resource: `arn:aws:secretsmanager:*:${A}:secret:prod/*` },
  { Sid: 'NoLogDeletes', Effect: 'Deny', Action: ['logs:Delete*', 'logs:PutRetentionPolicy'], Resource: '*', Condition: { StringNotLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/admin-*` } } },
  { Sid: 'OurRegionsOnly', Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } },
  { Sid: 'NoKeyDeletion', Effect: 'Deny', Action: ['kms:ScheduleKeyDeletion', 'kms:Disable*'], Resource: '*' },
  { Sid: 'AccessExpires', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2027-06-01T00:00:00Z' } } },
  { Sid: 'EnvTagRequired', Effect: 'Deny', Action: 'ecs:CreateService', Resource: '*', Condition: { Null: { 'aws:RequestTag/env': 'true' } } },
);
const pushes = doc(
  { Sid: 'PushDevImages', Effect: 'Allow', Action: ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'], Resource: `arn:aws:ecr:${R}:${A}:repository/dev/*` },
  { Sid: 'CreateDevRepos', Effect: 'Allow', Action: 'ecr:CreateRepository', Resource: `arn:aws:ecr:${R}:${A}:repository/dev/*`, Condition: { StringEqualsIfExists: { 'aws:RequestTag/env': 'dev' } } },
  { Sid: 'TagRepos', Effect: 'Allow', Action: 'ecr:TagResource', Resource: `arn:aws:ecr:${R}:${A}:repository/*`, Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['team', 'env*'] } } },
  { Sid: 'ScanResults', Effect: 'Allow', Action: ['ecr:DescribeImageScanFindings', 'inspector2:List*'], Resource: '*' },
  { Sid: 'ContainerInsights', Effect: 'Allow', Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], Resource: '*', Condition: { NumericLessThanEquals: { 'cloudwatch:MaxDatapoints': '1000' } } },
  { Sid: 'LogInsights', Effect: 'Allow', Action: ['logs:StartQuery', 'logs:GetQueryResults'], Resource: `arn:aws:logs:${R}:${A}:log-group:/ecs/*` },
  { Sid: 'EventsRead', Effect: 'Allow', Action: ['events:Describe*', 'events:List*'], Resource: '*' },
  { Sid: 'ServiceDiscoveryRead', Effect: 'Allow', Action: ['servicediscovery:Get*', 'servicediscovery:List*'], Resource: '*' },
  { Sid: 'EcsAutoscaling', Effect: 'Allow', Action: 'application-autoscaling:*', Resource: '*', Condition: { StringEquals: { 'application-autoscaling:service-namespace': 'ecs' } } },
  { Sid: 'Alarms', Effect: 'Allow', Action: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'], Resource: `arn:aws:cloudwatch:${R}:${A}:alarm:dev-*` },
);

const policies = [
  parsePolicyDocument(MANAGED_POLICIES.get('AmazonEC2ContainerRegistryReadOnly').document, 'identity'),
  parsePolicyDocument(MANAGED_POLICIES.get('CloudWatchLogsFullAccess').document, 'identity'),
  parsePolicyDocument(devOps, 'identity'),
  parsePolicyDocument(guardrails, 'identity'),
  parsePolicyDocument(pushes, 'identity'),
];
const statements = policies.reduce((n, p) => n + p.statements.length, 0);
if (policies.length !== 5 || statements !== 40) throw new Error(`expected 5 policies and 40 statements, have ${policies.length} and ${statements}`);

const principal = { arn: `arn:aws:iam::${A}:user/ana`, accountId: A, type: 'User', userName: 'ana', userId: 'AIDAEXAMPLEANA' };
const ctx = (extra = {}) => new Map(Object.entries({ 'aws:SourceIp': '203.0.113.10', 'aws:SecureTransport': 'true', 'aws:RequestedRegion': R, ...extra }));
const now = Date.parse('2026-06-01T09:00:00Z');
const cluster = (c) => `arn:aws:ecs:${R}:${A}:cluster/${c}`;
const req = (action, resources, extra, expect) => ({ request: { principal, action, resources, context: ctx(extra), now }, expect });
const MIX = [
  req('ecs:DescribeClusters', [cluster('dev-a'), cluster('prod')], {}, 'Allow'),
  req('ecs:ListTasks', [cluster('dev-a')], {}, 'Allow'),
  req('ecs:RunTask', [`arn:aws:ecs:${R}:${A}:task-definition/web:7`], { 'ecs:cluster': cluster('dev-a') }, 'Allow'),
  req('ecs:RunTask', [`arn:aws:ecs:${R}:${A}:task-definition/web:7`], { 'ecs:cluster': cluster('prod') }, 'ExplicitDeny'),
  req('ecs:RunTask', [`arn:aws:ecs:${R}:${A}:task-definition/web:7`], { 'ecs:cluster': cluster('staging') }, 'ImplicitDeny'),
  req('ecs:UpdateService', [`arn:aws:ecs:${R}:${A}:service/dev-a/api`], { 'ecs:cluster': cluster('dev-a') }, 'Allow'),
  req('ecs:UpdateService', [`arn:aws:ecs:${R}:${A}:service/prod/api`], { 'ecs:cluster': cluster('prod') }, 'ExplicitDeny'),
  req('ecs:StopTask', [`arn:aws:ecs:${R}:${A}:task/qa/abc`], { 'ecs:cluster': cluster('qa'), 'aws:ResourceTag/owner': 'ana' }, 'Allow'),
  req('iam:PassRole', [`arn:aws:iam::${A}:role/ecs-task-web`], { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }, 'Allow'),
  req('iam:PassRole', [`arn:aws:iam::${A}:role/admin`], { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }, 'ImplicitDeny'),
  req('ecs:TagResource', [cluster('dev-a')], { 'aws:RequestTag/team': 'ana', 'aws:TagKeys': ['team', 'env'] }, 'Allow'),
  req('iam:CreateAccessKey', [`arn:aws:iam::${A}:user/ana`], {}, 'Allow'),
  req('iam:CreateAccessKey', [`arn:aws:iam::${A}:user/bob`], {}, 'ExplicitDeny'),
  req('iam:CreateUser', [`arn:aws:iam::${A}:user/mallory`], {}, 'ExplicitDeny'),
  req('ecr:BatchGetImage', [`arn:aws:ecr:${R}:${A}:repository/prod/web`], {}, 'Allow'),
  req('ecr:PutImage', [`arn:aws:ecr:${R}:${A}:repository/dev/web`], {}, 'Allow'),
  req('ecr:PutImage', [`arn:aws:ecr:${R}:${A}:repository/prod/web`], {}, 'ImplicitDeny'),
  req('ecr:DeleteRepository', [`arn:aws:ecr:${R}:${A}:repository/dev/web`], {}, 'ExplicitDeny'),
  req('logs:PutLogEvents', [`arn:aws:logs:${R}:${A}:log-group:/ecs/web:log-stream:web/app/abc`], {}, 'Allow'),
  req('logs:DeleteLogGroup', [`arn:aws:logs:${R}:${A}:log-group:/ecs/web`], {}, 'ExplicitDeny'),
  req('secretsmanager:GetSecretValue', [`arn:aws:secretsmanager:${R}:${A}:secret:dev/db-AbCdEf`], {}, 'Allow'),
  req('secretsmanager:GetSecretValue', [`arn:aws:secretsmanager:${R}:${A}:secret:prod/db-AbCdEf`], {}, 'ExplicitDeny'),
  req('ssm:GetParameters', [`arn:aws:ssm:${R}:${A}:parameter/dev/api/key`], {}, 'Allow'),
  req('ecs:ListClusters', [], { 'aws:SourceIp': '192.0.2.55' }, 'ExplicitDeny'),
  req('sts:GetCallerIdentity', [], { 'aws:SourceIp': '192.0.2.55' }, 'Allow'),
  req('ecs:ListClusters', [], { 'aws:SecureTransport': 'false' }, 'ExplicitDeny'),
  req('ecs:UpdateContainerInstancesState', [cluster('dev-a')], {}, 'Allow'),
  req('cloudwatch:GetMetricData', [], { 'cloudwatch:MaxDatapoints': '500' }, 'Allow'),
  req('ec2:RunInstances', [`arn:aws:ec2:${R}:${A}:instance/*`], {}, 'ImplicitDeny'),
  req('ecs:DeleteCluster', [cluster('dev-a')], {}, 'ImplicitDeny'),
  req('ecs:ListClusters', [], { 'aws:RequestedRegion': 'ap-south-1' }, 'ExplicitDeny'),
  req('ecs:ExecuteCommand', [`arn:aws:ecs:${R}:${A}:task/dev-a/abc`], { 'ecs:cluster': cluster('dev-a') }, 'Allow'),
];
const counts = { Allow: 0, ExplicitDeny: 0, ImplicitDeny: 0 };
for (const { request, expect } of MIX) {
  const got = evaluate(request, policies).effect;
  if (got !== expect) throw new Error(`${request.action} ${request.resources}: expected ${expect}, got ${got}`);
  counts[expect]++;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function run() {
  let n = 0;
  let sink = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) {
      const d = evaluate(MIX[i % MIX.length].request, policies);
      sink += d.effect.length;
    }
    n += 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  if (sink === 0) throw new Error('unreachable');
  return { wall: n / elapsed, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}
run(); // warm-up: let V8 optimise before measuring
const rates = Array.from({ length: runs }, run);
for (const r of rates) console.error(`run: ${Math.round(r.cpu)} evaluations per CPU second, ${Math.round(r.wall)} per wall second`);

console.log(
  JSON.stringify({
    bench: 'policy-eval',
    policies: policies.length,
    statements,
    requests_in_mix: MIX.length,
    mix: counts,
    runs,
    seconds_per_run: seconds,
    evaluations_per_cpu_second: Math.round(median(rates.map((r) => r.cpu))),
    evaluations_per_wall_second: Math.round(median(rates.map((r) => r.wall))),
    per_run_cpu: rates.map((r) => Math.round(r.cpu)),
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    target: 200000,
    peer: null,
    node: process.version,
  }),
);
