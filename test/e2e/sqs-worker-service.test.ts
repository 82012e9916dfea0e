/**
 * A queue worker service, the pattern ECS documents for SQS: real `berth server` and agent on a simulated host, a
 * worker image built from this machine's `node` binary and the libraries it links (ldd) plus a small script using
 * the AWS SDK JS v3 SQS client (the repository's node_modules, bind-mounted read-only at /app/node_modules), signed
 * with the task role's credentials from 169.254.170.2 (the SDK's default chain: no keys in the task definition).
 *
 * 500 messages wait in the queue; the service starts at 1 task and scales on backlog per task with target tracking
 * on a customized metric: `AWS/SQS ApproximateNumberOfMessagesVisible / ECS/ContainerInsights RunningTaskCount`
 * (metric math), target 50. It scales out, the backlog drains (every message processed and deleted), and it scales
 * back in to its minimum.
 *
 * Time scale as in autoscaling-cpu.test.ts: BERTH_TIME_SCALE=12 makes a metrics "minute" 5 s on the server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { REPO_ROOT, startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { startLabAgent, stopLab } from './support/lab-agent.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const CLUSTER = 'workers';
const QUEUE = 'jobs';
const MESSAGES = 500;
const TRUST_ECS_TASKS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/** The worker: long-polls, "works" 200 ms a message, deletes what it took, forever. */
const WORKER = `
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
const sqs = new SQSClient({ endpoint: process.env.BERTH_ENDPOINT, region: '${REGION}' });
for (;;) {
  try {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: process.env.QUEUE_URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));
    for (const m of Messages) await new Promise((r) => setTimeout(r, 200));
    if (Messages.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: process.env.QUEUE_URL, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      console.log('processed', Messages.length);
    }
  } catch (err) {
    console.log('worker error', err.name, err.message);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
`;

/** `node` and the shared libraries it links, at their paths, for an image layer. */
function nodeFiles(): Record<string, Buffer> {
  const node = realpathSync(process.execPath);
  const files: Record<string, Buffer> = { 'usr/bin/node': readFileSync(node) };
  for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
    const path = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (path) files[path.slice(1)] = readFileSync(path);
  }
  return files;
}

describe.runIf(isRoot)('a queue worker service scaling on backlog per task', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-worker-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let sqs: SQSClient;
  let aas: ApplicationAutoScalingClient;
  let queueUrl = '';

  beforeAll(async () => {
    lab = createHostLab(1);
    registry = await startDockerRegistry({ address: lab.gateway });
    const files = nodeFiles();
    const built = await buildBusyboxImage(join(dir, 'layout'), 'latest', { extraLayer: { ...files, 'app/worker.mjs': WORKER }, executables: Object.keys(files) });
    const image = `${registry.host}/worker:latest`;
    await pushImage(built, image);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`], { BERTH_TIME_SCALE: '12' });
    const config = { endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 };
    ecs = new ECSClient(config);
    sqs = new SQSClient(config);
    aas = new ApplicationAutoScalingClient(config);
    const iam = new IAMClient(config);
    const account = (await new STSClient(config).send(new GetCallerIdentityCommand({}))).Account!;
    await iam.send(new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: TRUST_ECS_TASKS }));
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: `arn:aws:sqs:${REGION}:${account}:${QUEUE}` }] };
    await iam.send(new PutRolePolicyCommand({ RoleName: 'worker', PolicyName: 'queue', PolicyDocument: JSON.stringify(allow) }));
    iam.destroy();

    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { VisibilityTimeout: '30' } }))).QueueUrl!;
    for (let i = 0; i < MESSAGES; i += 10) {
      const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: `job ${i + j}` })) }));
      expect(r.Failed ?? []).toEqual([]);
    }
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, settings: [{ name: 'containerInsights', value: 'enabled' }] }));
    agent = await startLabAgent({
      server,
      lab,
      dir,
      bridge,
      env: { ECS_CLUSTER: CLUSTER, BERTH_METADATA_ADDRESS: '169.254.170.2:80', BERTH_INSECURE_REGISTRIES: registry.host, ECS_ENABLE_TASK_IAM_ROLE: 'true' },
    });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'worker',
        networkMode: 'bridge',
        taskRoleArn: `arn:aws:iam::${account}:role/worker`,
        volumes: [{ name: 'sdk', host: { sourcePath: join(REPO_ROOT, 'node_modules') } }],
        containerDefinitions: [
          {
            name: 'worker',
            image,
            memory: 160,
            command: ['/usr/bin/node', '/app/worker.mjs'],
            environment: [
              { name: 'BERTH_ENDPOINT', value: server.url },
              { name: 'QUEUE_URL', value: queueUrl },
            ],
            mountPoints: [{ sourceVolume: 'sdk', containerPath: '/app/node_modules', readOnly: true }],
          },
        ],
      }),
    );
  }, 240_000);

  afterAll(async () => {
    await aas?.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: `service/${CLUSTER}/worker`, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 0, MaxCapacity: 0 })).catch(() => {});
    await ecs?.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'worker', desiredCount: 0 })).catch(() => {});
    sqs?.destroy();
    aas?.destroy();
    await stopLab({ dir, ecs, agent, server, registries: [registry], lab });
  }, 180_000);

  it('drains a backlog of 500 messages, scaling out on the backlog per task and back in when it is gone', async () => {
    const service = async () => (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['worker'] }))).services![0]!;
    const counts = async () => {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    };
    await ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'worker', taskDefinition: 'worker', desiredCount: 1 }));
    const resource = { ServiceNamespace: 'ecs' as const, ResourceId: `service/${CLUSTER}/worker`, ScalableDimension: 'ecs:service:DesiredCount' as const };
    await aas.send(new RegisterScalableTargetCommand({ ...resource, MinCapacity: 1, MaxCapacity: 4 }));
    await aas.send(
      new PutScalingPolicyCommand({
        ...resource,
        PolicyName: 'backlog-per-task',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 50,
          ScaleOutCooldown: 5,
          ScaleInCooldown: 5,
          CustomizedMetricSpecification: {
            Metrics: [
              { Id: 'visible', ReturnData: false, MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: QUEUE }] }, Stat: 'Sum' } },
              {
                Id: 'running',
                ReturnData: false,
                MetricStat: {
                  Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Dimensions: [{ Name: 'ClusterName', Value: CLUSTER }, { Name: 'ServiceName', Value: 'worker' }] },
                  Stat: 'Average',
                },
              },
              { Id: 'perTask', Expression: 'visible / running', Label: 'backlog per task', ReturnData: true },
            ],
          },
        },
      }),
    );
    let most = 0;
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline && ((await counts()) > 0 || most < 2)) {
      most = Math.max(most, (await service()).runningCount!);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await counts()).toBe(0);
    expect(most).toBeGreaterThan(1);
    await expect.poll(async () => (await service()).desiredCount, { timeout: 180_000, interval: 1000 }).toBe(1);
    const activities = (await aas.send(new DescribeScalingActivitiesCommand(resource))).ScalingActivities!;
    expect(activities.some((a) => /AlarmHigh/.test(a.Cause!) && a.StatusCode === 'Successful')).toBe(true);
    expect(activities.some((a) => /AlarmLow/.test(a.Cause!) && a.StatusCode === 'Successful')).toBe(true);
  }, 480_000);
});
