import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

/**
 * Issue 11's answers-as-ECS through the AWS CLI v2 against a built `berth server`: what a user of the CLI
 * sees of deleted clusters, Describe* failures and empty lists, task-definition defaults, ECS's wording,
 * registration without totalResources, and a task's overrides and tags. (Debian's CLI 2.9 predates
 * DeleteTaskDefinitions; the SDK tests in src/api/ecs cover it.)
 */
describe('ECS answers as ECS gives them, through the AWS CLI v2', () => {
  let dir: string;
  let server: BerthServerProcess;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const arn = (resource: string) => `arn:aws:ecs:us-east-1:000000000000:${resource}`;
  const ID = '0123456789abcdef0123456789abcdef';
  /** How the CLI prints an AWS error (it may add "(reached max retries: N)" before the colon). */
  const cliError = (type: string, operation: string, message: string) => {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`An error occurred \\(${type}\\) when calling the ${operation} operation( \\([^)]*\\))?: ${escape(message)}\n`);
  };

  beforeAll(async () => {
    // A test that needs a real part fails loudly without it.
    if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws, Debian package awscli) is required');
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fidelity-'));
    server = await startBerthServer(join(dir, 'data'));
    expect((await aws('ecs', 'create-cluster')).code).toBe(0);
  });
  afterAll(async () => {
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps listing a deleted cluster, described as INACTIVE', async () => {
    expect((await aws('ecs', 'create-cluster', '--cluster-name', 'short-lived')).code).toBe(0);
    expect((await aws('ecs', 'delete-cluster', '--cluster', 'short-lived')).json.cluster.status).toBe('INACTIVE');
    expect((await aws('ecs', 'list-clusters')).json.clusterArns).toContain(arn('cluster/short-lived'));
    const described = await aws('ecs', 'describe-clusters', '--clusters', 'short-lived');
    expect(described.json.clusters).toMatchObject([{ clusterName: 'short-lived', status: 'INACTIVE' }]);
  });

  it("names unknown services, tasks and container instances in ECS's ARN form, with reason MISSING", async () => {
    const services = await aws('ecs', 'describe-services', '--services', 'ghost');
    expect(services.json.failures).toEqual([{ arn: arn('service/ghost'), reason: 'MISSING' }]);
    const tasks = await aws('ecs', 'describe-tasks', '--tasks', ID);
    expect(tasks.json.failures).toEqual([{ arn: arn(`task/${ID}`), reason: 'MISSING' }]);
    const instances = await aws('ecs', 'describe-container-instances', '--container-instances', ID);
    expect(instances.json.failures).toEqual([{ arn: arn(`container-instance/${ID}`), reason: 'MISSING' }]);
  });

  it('refuses empty id lists as ECS does', async () => {
    const cases = [
      ['describe-container-instances', { containerInstances: [] }, 'ClientException', 'DescribeContainerInstances', 'Container Instances cannot be empty.'],
      ['describe-tasks', { tasks: [] }, 'InvalidParameterException', 'DescribeTasks', 'Tasks cannot be empty.'],
      ['describe-services', { services: [] }, 'InvalidParameterException', 'DescribeServices', 'Services cannot be empty.'],
    ] as const;
    for (const [command, input, type, operation, message] of cases) {
      const r = await aws('ecs', command, '--cli-input-json', JSON.stringify(input));
      expect(r.code, r.stderr).toBe(254);
      expect(r.stderr).toMatch(cliError(type, operation, message));
    }
  });

  it('fills in the EFS root directory and expands a short role name', async () => {
    const file = join(dir, 'efs.json');
    writeFileSync(
      file,
      JSON.stringify({
        family: 'efs-app',
        taskRoleArn: 'app-role',
        containerDefinitions: [{ name: 'app', image: 'busybox', memory: 32 }],
        volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0abc' } }],
      }),
    );
    expect((await aws('ecs', 'register-task-definition', '--cli-input-json', `file://${file}`)).code).toBe(0);
    const { taskDefinition } = (await aws('ecs', 'describe-task-definition', '--task-definition', 'efs-app')).json;
    expect(taskDefinition.volumes).toEqual([{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0abc', rootDirectory: '/' } }]);
    expect(taskDefinition.taskRoleArn).toBe('arn:aws:iam::000000000000:role/app-role');
  });

  it('words refusals as ECS does', async () => {
    const noRevision = await aws('ecs', 'deregister-task-definition', '--task-definition', 'efs-app');
    expect(noRevision.stderr).toMatch(cliError('ClientException', 'DeregisterTaskDefinition', 'Revision is missing.'));
    const fargate = await aws(
      'ecs', 'register-task-definition', '--family', 'fg', '--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc',
      '--cpu', '256', '--memory', '512', '--pid-mode', 'host', '--container-definitions', 'name=app,image=busybox',
    );
    const pidMode = "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.";
    expect(fargate.stderr).toMatch(cliError('ClientException', 'RegisterTaskDefinition', pidMode));
  });

  it('registers an instance without totalResources, with attributes from its identity document; its task lists every container and no tags, and holds the instance', async () => {
    expect((await aws('ecs', 'create-cluster', '--cluster-name', 'hosts')).code).toBe(0);
    const identity = JSON.stringify({ instanceId: 'i-0feed', instanceType: 'm5.large', imageId: 'ami-0123', availabilityZone: 'us-east-1c', region: 'us-east-1' });
    const registered = await aws('ecs', 'register-container-instance', '--cluster', 'hosts', '--instance-identity-document', identity);
    expect(registered.code, registered.stderr).toBe(0);
    const instance = registered.json.containerInstance;
    const resource = (name: string) => instance.registeredResources.find((r: { name: string }) => r.name === name)?.integerValue;
    expect([resource('CPU'), resource('MEMORY')]).toEqual([2048, 8192]);
    expect(instance.attributes).toEqual(
      expect.arrayContaining([
        { name: 'ecs.ami-id', value: 'ami-0123' },
        { name: 'ecs.availability-zone', value: 'us-east-1c' },
        { name: 'ecs.instance-type', value: 'm5.large' },
        { name: 'ecs.os-type', value: 'linux' },
      ]),
    );

    const td = await aws('ecs', 'register-task-definition', '--family', 'two', '--container-definitions', 'name=a,image=busybox,memory=32', 'name=b,image=busybox,memory=32');
    expect(td.code, td.stderr).toBe(0);
    // StartTask places on the named instance: no agent is needed for the task record to exist.
    const started = await aws(
      'ecs', 'start-task', '--cluster', 'hosts', '--task-definition', 'two', '--container-instances', instance.containerInstanceArn,
      '--overrides', JSON.stringify({ containerOverrides: [{ name: 'b', command: ['true'] }] }), '--tags', 'key=team,value=core',
    );
    expect(started.code, started.stderr).toBe(0);
    const taskArn = started.json.tasks[0].taskArn;
    const described = await aws('ecs', 'describe-tasks', '--cluster', 'hosts', '--tasks', taskArn);
    const task = described.json.tasks[0];
    expect(task.overrides.containerOverrides).toEqual([{ name: 'a' }, { name: 'b', command: ['true'] }]);
    expect(task).not.toHaveProperty('tags');
    const tagged = await aws('ecs', 'describe-tasks', '--cluster', 'hosts', '--tasks', taskArn, '--include', 'TAGS');
    expect(tagged.json.tasks[0].tags).toEqual([{ key: 'team', value: 'core' }]);

    // The instance holds a task that has not stopped: ECS refuses to deregister it, in its words.
    const deregister = await aws('ecs', 'deregister-container-instance', '--cluster', 'hosts', '--container-instance', instance.containerInstanceArn);
    expect(deregister.stderr).toMatch(cliError('InvalidParameterException', 'DeregisterContainerInstance', 'Found running tasks on the instance.'));
    const still = await aws('ecs', 'describe-container-instances', '--cluster', 'hosts', '--container-instances', instance.containerInstanceArn);
    expect(still.json.containerInstances[0].status).toBe('ACTIVE');
  });
});
