import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import { containerOutput, waitForTask } from './support/task-output.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const TRUST_EVENTS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/**
 * EventBridge with real containers: the built server and agent on a simulated host; a rule on berth's own "ECS Task
 * State Change" events (made with the AWS CLI v2) whose pattern asks for a stopped task of one family with a
 * non-zero exit code; its ECS target (put with the SDK JS v3) runs a follow-up task as the rule's role, its
 * container overrides built by an InputTransformer from the event. A task exiting 0 runs nothing.
 */
describe.runIf(isRoot)('EventBridge rules run tasks on ECS events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-events-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let events: EventBridgeClient;
  let image: string;
  let account: string;
  const cli = (...args: string[]) => awsCli(server.url, server.credentialsFile, args, REGION);

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error('this test needs the AWS CLI v2 at /usr/bin/aws');
    ({ lab, registry, image, server, ecs, logs } = await startLabControlPlane(dir, REGION));
    const config = { endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 };
    events = new EventBridgeClient(config);
    const iam = new IAMClient(config);
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'events-run-task', AssumeRolePolicyDocument: TRUST_EVENTS }));
    account = role.Role!.Arn!.split(':')[4]!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'events-run-task',
        PolicyName: 'run-cleanup',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:RunTask', Resource: `arn:aws:ecs:${REGION}:${account}:task-definition/cleanup:*` }] }),
      }),
    );
    iam.destroy();
    agent = await startLabAgent({ server, lab, dir, bridge, env: { BERTH_INSECURE_REGISTRIES: registry.host } });
    for (const [family, script] of [
      ['worker', 'echo working; exit "${EXIT_WITH:-0}"'],
      ['cleanup', 'echo "FAILED $FAILED_TASK"; echo "CODE $EXIT_CODE"; echo "RULE $RULE"; echo DONE'],
    ] as const) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({ family, networkMode: 'bridge', containerDefinitions: [{ name: 'probe', image, memory: 32, command: ['sh', '-c', script] }] }),
      );
    }
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs, events], server, registries: [registry], lab }));

  it('a worker task stopping with a non-zero exit code runs one cleanup task with overrides from the event', async () => {
    const pattern = {
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { lastStatus: ['STOPPED'], group: ['family:worker'], containers: { exitCode: [{ 'anything-but': 0 }] } },
    };
    const put = await cli('events', 'put-rule', '--name', 'worker-failed', '--event-pattern', JSON.stringify(pattern));
    expect(put.code, put.stderr).toBe(0);
    expect(put.json.RuleArn).toBe(`arn:aws:events:${REGION}:${account}:rule/worker-failed`);
    const targets = await events.send(
      new PutTargetsCommand({
        Rule: 'worker-failed',
        Targets: [
          {
            Id: 'cleanup',
            Arn: `arn:aws:ecs:${REGION}:${account}:cluster/default`,
            RoleArn: `arn:aws:iam::${account}:role/events-run-task`,
            EcsParameters: { TaskDefinitionArn: `arn:aws:ecs:${REGION}:${account}:task-definition/cleanup:1`, TaskCount: 1, LaunchType: 'EC2' },
            InputTransformer: {
              InputPathsMap: { task: '$.detail.taskArn', code: '$.detail.containers[0].exitCode' },
              InputTemplate:
                '{"containerOverrides":[{"name":"probe","environment":[{"name":"FAILED_TASK","value":"<task>"},{"name":"EXIT_CODE","value":"<code>"},{"name":"RULE","value":"<aws.events.rule-name>"}]}]}',
            },
          },
        ],
      }),
    );
    expect(targets.FailedEntryCount).toBe(0);
    const listed = await cli('events', 'list-targets-by-rule', '--rule', 'worker-failed');
    expect(listed.json.Targets[0].EcsParameters.TaskDefinitionArn).toContain('task-definition/cleanup:1');

    // The same pattern, asked of TestEventPattern through the CLI, agrees with what the dispatcher will match.
    const sample = { id: '1', account, source: 'aws.ecs', time: '2026-01-01T00:00:00Z', region: REGION, resources: [], 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', group: 'family:worker', containers: [{ exitCode: 7 }] } };
    const tested = await cli('events', 'test-event-pattern', '--event-pattern', JSON.stringify(pattern), '--event', JSON.stringify(sample));
    expect(tested.json).toEqual({ Result: true });

    const run = (exit: string) =>
      ecs.send(new RunTaskCommand({ taskDefinition: 'worker', overrides: { containerOverrides: [{ name: 'probe', environment: [{ name: 'EXIT_WITH', value: exit }] }] } })).then((r) => r.tasks![0]!.taskArn!);
    const ok = await run('0');
    await waitForTask(ecs, ok, (t) => t.lastStatus === 'STOPPED', 60_000, () => agent.stderr().slice(-3000));
    const failed = await run('3');
    const stopped = await waitForTask(ecs, failed, (t) => t.lastStatus === 'STOPPED', 60_000, () => agent.stderr().slice(-3000));
    expect(stopped.containers?.[0]?.exitCode).toBe(3);

    // The cleanup task, started by the rule, prints what the InputTransformer put in its environment.
    const deadline = Date.now() + 30_000;
    let cleanupArns: string[] = [];
    while (Date.now() < deadline && cleanupArns.length === 0) {
      const [running, done] = await Promise.all(
        (['RUNNING', 'STOPPED'] as const).map((desiredStatus) => ecs.send(new ListTasksCommand({ family: 'cleanup', desiredStatus })).then((r) => r.taskArns ?? [])),
      );
      cleanupArns = [...running!, ...done!];
      if (cleanupArns.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(cleanupArns, server.stdout().slice(-3000)).toHaveLength(1);
    const cleanup = await waitForTask(ecs, cleanupArns[0]!, (t) => t.lastStatus === 'STOPPED', 60_000);
    expect(cleanup.startedBy).toBe('events-rule/worker-failed');
    // From the worker's STOPPED commit to the cleanup task's creation: routing and delivery on the leader's passes.
    const latencyMs = cleanup.createdAt!.getTime() - stopped.stoppedAt!.getTime();
    console.info(`EventBridge: worker STOPPED to cleanup task created in ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(10_000);
    const out = await containerOutput(logs, { group: '/berth/default', stream: `cleanup/probe/${cleanup.taskArn!.split('/').at(-1)}` }, 'DONE', 30_000);
    expect(out).toMatchObject({ FAILED: failed, CODE: '3', RULE: 'worker-failed' });
    // Neither the task that exited 0 nor the cleanup task itself ran another.
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await ecs.send(new ListTasksCommand({ family: 'cleanup', desiredStatus: 'STOPPED' }));
    expect(after.taskArns).toHaveLength(1);
  }, 180_000);

  it('the CLI puts custom events and reports refused entries; describe-rule and list-rule-names-by-target answer as EventBridge', async () => {
    const put = await cli('events', 'put-events', '--entries', JSON.stringify([{ Source: 'shop', DetailType: 'order', Detail: '{"id":1}' }, { Source: 'shop', DetailType: 'order', Detail: 'nope' }]));
    expect(put.code, put.stderr).toBe(0);
    expect(put.json.FailedEntryCount).toBe(1);
    expect(put.json.Entries[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    const rule = await cli('events', 'describe-rule', '--name', 'worker-failed');
    expect(rule.json).toMatchObject({ Name: 'worker-failed', State: 'ENABLED', EventBusName: 'default' });
    const names = await cli('events', 'list-rule-names-by-target', '--target-arn', `arn:aws:ecs:${REGION}:${account}:cluster/default`);
    expect(names.json.RuleNames).toEqual(['worker-failed']);
    const refused = await cli('events', 'delete-rule', '--name', 'worker-failed');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Rule can't be deleted since it has targets.");
  });
});
