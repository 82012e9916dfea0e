#!/usr/bin/env node
// What authorization adds to an API call: signed DescribeTaskDefinition from an IAM user with 5 attached
// customer managed policies (40 statements, with conditions, the allowing statement among the last) against the
// same call signed with the root key pair, which passes the authorization step without a lookup. Same server
// process (berth, SQLite), same load generator (wrk replaying pre-signed keep-alive requests), runs alternating
// root and user. The user and its policies are made through the IAM API. Needs `npm run build` and wrk.
// Prints one JSON line.
//
//   node bench/authz-overhead.mjs [--concurrency 32] [--seconds 5] [--runs 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { startServer } from './lib/berth-processes.mjs';
import { call, REGION, signed } from './lib/ecs-signed.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '32' }, seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '5' } },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const FAMILIES = 16;
const ACCOUNT = '123456789012';

/**
 * Five policies of eight statements as people write them: other services' actions, denies with conditions
 * that do not match, resource-scoped ECS statements, and the statement allowing ecs:DescribeTaskDefinition in
 * the last policy, behind a condition on the source address.
 */
function policies(account) {
  const ecs = (r) => `arn:aws:ecs:${REGION}:${account}:${r}`;
  const filler = (p) => [
    { Sid: `Logs${p}`, Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:${REGION}:${account}:log-group:/ecs/team-${p}/*` },
    { Sid: `Ecr${p}`, Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: `arn:aws:ecr:${REGION}:${account}:repository/team-${p}/*` },
    { Sid: `Run${p}`, Effect: 'Allow', Action: 'ecs:RunTask', Resource: ecs(`task-definition/team-${p}-*:*`), Condition: { ArnEquals: { 'ecs:cluster': ecs(`cluster/team-${p}`) } } },
    { Sid: `Svc${p}`, Effect: 'Allow', Action: ['ecs:UpdateService', 'ecs:DescribeServices'], Resource: ecs(`service/team-${p}/*`) },
    { Sid: `Tags${p}`, Effect: 'Allow', Action: 'ecs:TagResource', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': `team-${p}` }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } } },
    { Sid: `NoDelete${p}`, Effect: 'Deny', Action: ['ecs:DeleteCluster', 'ecs:DeleteService'], Resource: ecs(`cluster/prod-${p}`) },
    { Sid: `Hours${p}`, Effect: 'Deny', Action: 'ecs:*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2001-01-01T00:00:00Z' } } },
    { Sid: `Pass${p}`, Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${account}:role/team-${p}-*`, Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
  ];
  return Array.from({ length: 5 }, (_, p) => {
    const statements = filler(p);
    if (p === 4) {
      statements[7] = { Sid: 'Describe', Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } };
    }
    return { Version: '2012-10-17', Statement: statements };
  });
}

const taskDefinition = (family) => ({ family, containerDefinitions: [{ name: 'web', image: 'busybox:latest', memory: 128, command: ['httpd', '-f'] }] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const berth = await startServer(dir);
try {
  const iam = new IAMClient({ endpoint: berth.url, region: REGION, credentials: berth.keys, maxAttempts: 1 });
  await iam.send(new CreateUserCommand({ UserName: 'bench' }));
  const documents = policies(ACCOUNT);
  for (const [i, document] of documents.entries()) {
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: `bench-${i}`, PolicyDocument: JSON.stringify(document) }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'bench', PolicyArn: Policy.Arn }));
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bench' }));
  iam.destroy();
  const user = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
  for (let f = 0; f < FAMILIES; f++) await call(berth.url, berth.keys, 'RegisterTaskDefinition', taskDefinition(`bench-${f}`));
  // IAM is eventually consistent here as in AWS: the new key and policies reach the caches in milliseconds.
  for (let i = 0; ; i++) {
    try {
      await call(berth.url, user, 'DescribeTaskDefinition', { taskDefinition: 'bench-0' });
      break;
    } catch (error) {
      if (i >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const principals = { root: berth.keys, user };
  const phase = async (who) => {
    const keys = principals[who];
    const requests = await Promise.all(
      Array.from({ length: Math.max(64, concurrency) }, (_, i) => signed(berth.url, keys, 'DescribeTaskDefinition', { taskDefinition: `bench-${i % FAMILIES}` })),
    );
    const before = cpuSeconds(berth.child.pid);
    const result = await runWrk({ url: berth.url, requests, connections: concurrency, seconds });
    return { ...result, cpu_us_per_request: Math.round(((cpuSeconds(berth.child.pid) - before) * 1e6) / result.requests) };
  };
  await phase('root');
  await phase('user');
  const results = { root: [], user: [] };
  for (let r = 0; r < runs; r++) for (const who of ['root', 'user']) results[who].push(await phase(who));
  const summary = (list) => ({
    rps_median: median(list.map((x) => x.rps)),
    p50_ms: median(list.map((x) => x.p50_ms)),
    p99_ms: median(list.map((x) => x.p99_ms)),
    cpu_us_per_request_median: median(list.map((x) => x.cpu_us_per_request)),
    runs_rps: list.map((x) => x.rps),
  });
  const root = summary(results.root);
  const userSummary = summary(results.user);
  console.log(
    JSON.stringify({
      bench: 'authz-overhead',
      call: 'DescribeTaskDefinition (signed, keep-alive, pre-signed requests replayed by wrk)',
      user: { attached_policies: documents.length, statements: documents.reduce((n, d) => n + d.Statement.length, 0) },
      concurrency,
      seconds_per_run: seconds,
      runs,
      root,
      user_with_policies: userSummary,
      user_over_root: {
        rps: Number((userSummary.rps_median / root.rps_median).toFixed(3)),
        added_p50_ms: Number((userSummary.p50_ms - root.p50_ms).toFixed(3)),
        added_p99_ms: Number((userSummary.p99_ms - root.p99_ms).toFixed(3)),
        added_cpu_us_per_request: userSummary.cpu_us_per_request_median - root.cpu_us_per_request_median,
      },
      node: process.version,
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
    }),
  );
} finally {
  await berth.stop();
  rmSync(dir, { recursive: true, force: true });
}
