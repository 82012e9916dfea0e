import {
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  type NetworkConfiguration,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { removeAgentDir, startFakeAgent, untilConnected, type FakeAgent } from '../../testing/fake-agents.js';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/**
 * awsvpc through the API: the network configuration RunTask and StartTask require, and the interface
 * attachment a task shows once its agent (fake runtime parts here; real ones in test/e2e) has attached it.
 */
let api: ApiFixture;
let fake: FakeAgent;
let agent: RunningAgent;
const vpc: NetworkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-0abc'], securityGroups: ['sg-01'] } };

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200 });
  fake = await startFakeAgent(api.server.url, { cpuUnits: 1024, memoryMib: 1024 });
  agent = fake.running;
  await untilConnected(api.ecs, [fake]);
  const web = { name: 'web', image: 'busybox', memory: 64, portMappings: [{ containerPort: 80 }] };
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc-web', networkMode: 'awsvpc', containerDefinitions: [web, { ...web, name: 'side', portMappings: [] }] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'bridge-web', containerDefinitions: [web] }));
});

afterAll(async () => {
  await fake.stop();
  removeAgentDir(fake);
  await api.stop();
});

const describeTask = async (arn: string) => (await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
const detail = (t: Task, name: string) => t.attachments?.[0]?.details?.find((d) => d.name === name)?.value;

describe('awsvpc network configuration', () => {
  it.each([
    ['vpc-web', undefined, "Network Configuration must be provided when networkMode 'awsvpc' is specified."],
    ['bridge-web', vpc, 'Network Configuration is not valid for the given networkMode of this task definition.'],
    ['vpc-web', { awsvpcConfiguration: { subnets: [] } }, 'subnets can not be empty.'],
    ['vpc-web', { awsvpcConfiguration: { subnets: Array.from({ length: 17 }, (_, i) => `subnet-${i}`) } }, 'awsvpcConfiguration.subnets can have at most 16 subnets.'],
    ['vpc-web', { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5', 'sg-6'] } }, 'awsvpcConfiguration.securityGroups can have at most 5 security groups.'],
    ['vpc-web', { awsvpcConfiguration: { subnets: ['my-subnet'] } }, "awsvpcConfiguration.subnets: 'my-subnet' is not a valid subnet id (subnet-…)."],
    ['vpc-web', { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'ENABLED' } }, 'Assign public IP is not supported for this launch type.'],
  ] as [string, NetworkConfiguration | undefined, string][])('RunTask %s with %j is refused, starting nothing', async (taskDefinition, networkConfiguration, message) => {
    const error = await failure(api.ecs.send(new RunTaskCommand({ taskDefinition, ...(networkConfiguration ? { networkConfiguration } : {}) })));
    expect(error).toEqual({ name: 'InvalidParameterException', message, status: 400 });
    expect((await api.ecs.send(new ListTasksCommand({}))).taskArns).toEqual([]);
  });

  it('StartTask requires it too', async () => {
    const error = await failure(api.ecs.send(new StartTaskCommand({ taskDefinition: 'vpc-web', containerInstances: [agent.containerInstanceArn] })));
    expect(error.message).toBe("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  });
});

describe('awsvpc tasks', () => {
  it("show their interface PRECREATED, then ATTACHED with the task's address on every container, then DELETED", async () => {
    // Two tasks whose containers use the same port share the instance: awsvpc takes no host port.
    const { tasks, failures } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'vpc-web', count: 2, networkConfiguration: vpc }));
    expect(failures).toEqual([]);
    const [first] = tasks!;
    expect(first!.attachments).toEqual([
      { id: expect.any(String), type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [{ name: 'subnetId', value: 'subnet-0abc' }, { name: 'networkInterfaceId', value: expect.stringMatching(/^eni-[0-9a-f]{17}$/) }] },
    ]);
    const attached = await Promise.all(
      tasks!.map((t) =>
        vi.waitFor(
          async () => {
            const now = await describeTask(t.taskArn!);
            expect(now.lastStatus).toBe('RUNNING');
            expect(now.attachments![0]!.status).toBe('ATTACHED');
            return now;
          },
          { timeout: 5_000, interval: 20 },
        ),
      ),
    );
    const ips = attached.map((t) => detail(t, 'privateIPv4Address'));
    expect(new Set(ips).size).toBe(2);
    for (const [i, t] of attached.entries()) {
      expect(detail(t, 'networkInterfaceId')).toBe(detail(tasks![i]!, 'networkInterfaceId'));
      expect(detail(t, 'macAddress')).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(detail(t, 'privateDnsName')).toBe(`ip-${ips[i]!.replaceAll('.', '-')}.ec2.internal`);
      for (const c of t.containers!) {
        expect(c.networkInterfaces).toEqual([{ attachmentId: t.attachments![0]!.id, privateIpv4Address: ips[i] }]);
        expect(c.networkBindings).toEqual([]);
      }
    }
    for (const t of tasks!) await api.ecs.send(new StopTaskCommand({ task: t.taskArn! }));
    await vi.waitFor(
      async () => {
        for (const t of tasks!) expect((await describeTask(t.taskArn!)).attachments![0]!.status).toBe('DELETED');
      },
      { timeout: 5_000, interval: 20 },
    );
  });
});
