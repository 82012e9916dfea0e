import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  type ListTaskDefinitionFamiliesRequest,
  type ListTaskDefinitionsRequest,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionRequest,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceModel, type StructureShape } from '../protocol/service-model.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { container, kitchenSinkTaskDefinition, minimalTaskDefinition } from '../../testing/task-definition-samples.js';

const tdArn = (family: string, revision: number) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/${family}:${revision}`;

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const register = (input: RegisterTaskDefinitionRequest) => api.ecs.send(new RegisterTaskDefinitionCommand(input));
const describeTd = (taskDefinition: string, include?: 'TAGS'[]) =>
  api.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition, ...(include ? { include } : {}) }));

describe('RegisterTaskDefinition', () => {
  it('numbers revisions per family and fills in what ECS fills in', async () => {
    const first = await register(minimalTaskDefinition('rev', { containerDefinitions: [container('web', { portMappings: [{ containerPort: 80 }] })] }));
    const second = await register(minimalTaskDefinition('rev'));
    expect(first.taskDefinition?.revision).toBe(1);
    expect(second.taskDefinition?.revision).toBe(2);
    const td = first.taskDefinition!;
    expect(td).toMatchObject({
      taskDefinitionArn: tdArn('rev', 1),
      family: 'rev',
      status: 'ACTIVE',
      networkMode: 'bridge',
      volumes: [],
      placementConstraints: [],
      compatibilities: ['EC2', 'EXTERNAL'],
      requiresAttributes: [],
      registeredBy: `arn:aws:iam::${TEST_ACCOUNT}:root`,
    });
    expect(td.registeredAt).toBeInstanceOf(Date);
    expect(Math.abs(td.registeredAt!.getTime() - Date.now())).toBeLessThan(10_000);
    expect(td.containerDefinitions?.[0]).toEqual({
      name: 'web',
      image: 'busybox:latest',
      memory: 64,
      cpu: 0,
      essential: true,
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      systemControls: [],
    });
  });

  it('normalises task cpu and memory strings to units and MiB', async () => {
    const cases: [string, string, string, string][] = [
      ['1 vCPU', '2GB', '1024', '2048'],
      ['0.25 vcpu', '0.5 GB', '256', '512'],
      ['2048', '4096', '2048', '4096'],
    ];
    for (const [cpu, memory, wantCpu, wantMemory] of cases) {
      const { taskDefinition } = await register(minimalTaskDefinition('units', { cpu, memory }));
      expect([taskDefinition?.cpu, taskDefinition?.memory]).toEqual([wantCpu, wantMemory]);
    }
  });

  it('sets host ports equal to container ports in awsvpc and host mode', async () => {
    for (const networkMode of ['awsvpc', 'host'] as const) {
      const { taskDefinition } = await register(
        minimalTaskDefinition(`ports-${networkMode}`, { networkMode, containerDefinitions: [container('a', { portMappings: [{ containerPort: 8080 }] })] }),
      );
      expect(taskDefinition?.containerDefinitions?.[0]?.portMappings).toEqual([{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
    }
  });

  it('accepts, stores and returns every field of the model', async () => {
    const { taskDefinition, tags } = await register(kitchenSinkTaskDefinition);
    const { tags: _t, cpu: _c, memory: _m, taskRoleArn: _r, ...rest } = kitchenSinkTaskDefinition;
    const described = await describeTd(taskDefinition!.taskDefinitionArn!, ['TAGS']);
    for (const td of [taskDefinition, described.taskDefinition]) {
      expect(td).toMatchObject(rest);
      expect(td).toMatchObject({ cpu: '1024', memory: '2048', taskRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/app-role` });
    }
    expect(tags).toEqual(kitchenSinkTaskDefinition.tags);
    expect(described.tags).toEqual(kitchenSinkTaskDefinition.tags);
    expect(described.taskDefinition?.requiresAttributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'com.amazonaws.ecs.capability.task-iam-role',
        'ecs.capability.container-health-check',
        'ecs.capability.container-ordering',
        'com.amazonaws.ecs.capability.logging-driver.awslogs',
        'ecs.capability.secrets.ssm.environment-variables',
        'com.amazonaws.ecs.capability.docker-plugin.local',
      ]),
    );
  });

  it('has a kitchen-sink sample that really covers every member of the model', () => {
    const model = loadServiceModel('ecs-2014-11-13.json');
    const missing: string[] = [];
    const visited = new Set<string>();
    const walk = (shapeName: string, values: unknown[], path: string) => {
      const shape = model.shapes[shapeName]!;
      if (shape.type === 'list') return walk(shape.member.shape, values.flatMap((v) => v as unknown[]), `${path}[]`);
      if (shape.type === 'map') return walk(shape.value.shape, values.flatMap((v) => Object.values(v as object)), `${path}{}`);
      if (shape.type !== 'structure' || visited.has(path)) return;
      visited.add(path);
      for (const [member, ref] of Object.entries((shape as StructureShape).members)) {
        const present = values.map((v) => (v as Record<string, unknown>)[member]).filter((v) => v !== undefined);
        if (present.length === 0) missing.push(`${path}.${member}`);
        else walk(ref.shape, present, `${path}.${member}`);
      }
    };
    walk('RegisterTaskDefinitionRequest', [kitchenSinkTaskDefinition], 'request');
    expect(missing).toEqual([]);
  });

  it('computes FARGATE compatibility and the task-eni attribute for a valid Fargate definition', async () => {
    const { taskDefinition } = await register(
      minimalTaskDefinition('fargate', { requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512' }),
    );
    expect(taskDefinition?.compatibilities).toEqual(['EC2', 'EXTERNAL', 'FARGATE']);
    expect(taskDefinition?.requiresAttributes).toContainEqual({ name: 'ecs.capability.task-eni' });
  });

  it('gives each of many concurrent registrations of one family its own revision', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => register(minimalTaskDefinition('race'))));
    const revisions = results.map((r) => r.taskDefinition!.revision!).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('RegisterTaskDefinition validation', () => {
  const td = minimalTaskDefinition;
  const c = container;
  const fargate = (extra: Partial<RegisterTaskDefinitionRequest>) =>
    td('bad', { requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', ...extra });
  const cases: [string, RegisterTaskDefinitionRequest, string, RegExp | string][] = [
    ['neither memory nor memoryReservation', td('bad', { containerDefinitions: [c('x', { memory: undefined })] }), 'ClientException', "Invalid setting for container 'x'. At least one of 'memory' or 'memoryReservation' must be specified."],
    ['memoryReservation above memory', td('bad', { containerDefinitions: [c('x', { memory: 64, memoryReservation: 128 })] }), 'ClientException', /'memory' \(64 MiB\) must be greater than or equal to 'memoryReservation' \(128 MiB\)/],
    ['memory below 6 MiB', td('bad', { containerDefinitions: [c('x', { memory: 4 })] }), 'ClientException', /at least 6 MiB/],
    ['container memory above task memory', td('bad', { memory: '128', containerDefinitions: [c('x', { memory: 256 })] }), 'ClientException', /exceeds the task memory/],
    ['reservations above task memory', td('bad', { memory: '128', containerDefinitions: [c('x', { memory: 100 }), c('y', { memory: 100 })] }), 'ClientException', /sum of the containers' memory reservations \(200 MiB\)/],
    ['container cpu above task cpu', td('bad', { cpu: '256', containerDefinitions: [c('x', { cpu: 512 })] }), 'ClientException', /sum of the containers' cpu/],
    ['no essential container', td('bad', { containerDefinitions: [c('x', { essential: false })] }), 'ClientException', 'A task definition must have at least one essential container.'],
    ['duplicate container names', td('bad', { containerDefinitions: [c('x'), c('x')] }), 'ClientException', "Duplicate container name 'x' in the task definition."],
    ['container without a name', td('bad', { containerDefinitions: [{ image: 'busybox', memory: 64 }] }), 'ClientException', 'Container.name should not be null or empty.'],
    ['container without an image', td('bad', { containerDefinitions: [{ name: 'x', memory: 64 }] }), 'ClientException', 'Container.image should not be null or empty.'],
    ['bad container name', td('bad', { containerDefinitions: [c('x y')] }), 'ClientException', /Invalid container name 'x y'/],
    ['bad family characters', td('bad.family'), 'ClientException', /Invalid family name 'bad.family'/],
    ['family over 255 characters', td('f'.repeat(256)), 'ClientException', /Invalid family name/],
    ['11 containers', td('bad', { containerDefinitions: Array.from({ length: 11 }, (_, i) => c(`c${i}`)) }), 'ClientException', /at most 10 \(got 11\)/],
    ['over 64 KiB', td('bad', { containerDefinitions: [c('x', { environment: [{ name: 'BIG', value: 'x'.repeat(70_000) }] })] }), 'ClientException', /exceeds the limit \(65536 bytes\)/],
    ['dependsOn an unknown container', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'ghost', condition: 'START' }] })] }), 'ClientException', /depends on container 'ghost', which is not in the task definition/],
    ['COMPLETE on an essential container', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'y', condition: 'COMPLETE' }] }), c('y')] }), 'ClientException', /essential container 'y' with condition COMPLETE/],
    ['SUCCESS on an essential container', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'y', condition: 'SUCCESS' }] }), c('y')] }), 'ClientException', /essential container 'y' with condition SUCCESS/],
    ['HEALTHY without a health check', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'y', condition: 'HEALTHY' }] }), c('y')] }), 'ClientException', /has no healthCheck/],
    ['a dependency cycle', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'y', condition: 'START' }] }), c('y', { dependsOn: [{ containerName: 'x', condition: 'START' }] })] }), 'ClientException', /cycle: x -> y -> x/],
    ['depending on itself', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'x', condition: 'START' }] })] }), 'ClientException', /cannot depend on itself/],
    ['awsvpc host port differing from container port', td('bad', { networkMode: 'awsvpc', containerDefinitions: [c('x', { portMappings: [{ containerPort: 80, hostPort: 8080 }] })] }), 'ClientException', 'When networkMode=awsvpc, the host ports and container ports in port mappings must match.'],
    ['host mode host port differing from container port', td('bad', { networkMode: 'host', containerDefinitions: [c('x', { portMappings: [{ containerPort: 80, hostPort: 81 }] })] }), 'ClientException', 'When networkMode=host, the host ports and container ports in port mappings must match.'],
    ['port mappings with networkMode none', td('bad', { networkMode: 'none', containerDefinitions: [c('x', { portMappings: [{ containerPort: 80 }] })] }), 'ClientException', /not supported when networkMode=none/],
    ['one fixed host port twice in bridge mode', td('bad', { containerDefinitions: [c('x', { portMappings: [{ containerPort: 80, hostPort: 8080 }] }), c('y', { portMappings: [{ containerPort: 81, hostPort: 8080 }] })] }), 'ClientException', /Host port 8080\/tcp is mapped by more than one/],
    ['one container port twice in awsvpc mode', td('bad', { networkMode: 'awsvpc', containerDefinitions: [c('x', { portMappings: [{ containerPort: 80 }, { containerPort: 80 }] })] }), 'ClientException', /Host port 80\/tcp/],
    ['a container port of 0', td('bad', { containerDefinitions: [c('x', { portMappings: [{ containerPort: 0 }] })] }), 'ClientException', /containerPort 0 is not between 1 and 65535/],
    ['a bad containerPortRange', td('bad', { containerDefinitions: [c('x', { portMappings: [{ containerPortRange: '90-80' }] })] }), 'ClientException', /Invalid containerPortRange '90-80'/],
    ['links in awsvpc mode', td('bad', { networkMode: 'awsvpc', containerDefinitions: [c('x', { links: ['y'] }), c('y')] }), 'ClientException', /Links are not supported when networkMode=awsvpc/],
    ['a link to nowhere', td('bad', { containerDefinitions: [c('x', { links: ['ghost:g'] })] }), 'ClientException', /link 'ghost:g' does not name another container/],
    ['hostname in awsvpc mode', td('bad', { networkMode: 'awsvpc', containerDefinitions: [c('x', { hostname: 'h' })] }), 'ClientException', /hostname parameter is not supported when networkMode=awsvpc/],
    ['health check without CMD', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['curl', 'localhost'] } })] }), 'ClientException', /must start with 'CMD' or 'CMD-SHELL'/],
    ['health check with nothing to run', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD-SHELL'] } })] }), 'ClientException', /needs a command after 'CMD-SHELL'/],
    ['health check interval 4', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], interval: 4 } })] }), 'ClientException', /healthCheck.interval must be between 5 and 300 \(got 4\)/],
    ['health check interval 301', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], interval: 301 } })] }), 'ClientException', /healthCheck.interval/],
    ['health check timeout 1', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], timeout: 1 } })] }), 'ClientException', /healthCheck.timeout must be between 2 and 60/],
    ['health check retries 11', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], retries: 11 } })] }), 'ClientException', /healthCheck.retries must be between 1 and 10/],
    ['health check retries 0', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], retries: 0 } })] }), 'ClientException', /healthCheck.retries/],
    ['health check startPeriod 301', td('bad', { containerDefinitions: [c('x', { healthCheck: { command: ['CMD', 'true'], startPeriod: 301 } })] }), 'ClientException', /healthCheck.startPeriod must be between 0 and 300/],
    ['Fargate without task cpu', fargate({ cpu: undefined }), 'ClientException', "Fargate requires that 'cpu' be defined at the task level."],
    ['Fargate without task memory', fargate({ memory: undefined }), 'ClientException', "Fargate requires that 'memory' be defined at the task level."],
    ['Fargate in bridge mode', fargate({ networkMode: 'bridge' }), 'ClientException', "Fargate only supports network mode 'awsvpc'."],
    ['Fargate with an invalid size', fargate({ cpu: '512', memory: '512' }), 'ClientException', 'No Fargate configuration exists for given values: 512 CPU, 512 memory.'],
    ['Fargate with 16 vCPU and too little memory', fargate({ cpu: '16 vCPU', memory: '16GB' }), 'ClientException', 'No Fargate configuration exists for given values: 16384 CPU, 16384 memory.'],
    ['Fargate stopTimeout over 120', fargate({ containerDefinitions: [c('x', { stopTimeout: 121 })] }), 'ClientException', /stopTimeout can be at most 120/],
    ['Fargate privileged container', fargate({ containerDefinitions: [c('x', { privileged: true })] }), 'ClientException', /privileged/],
    ['an unparseable cpu', td('bad', { cpu: 'lots' }), 'ClientException', /Invalid 'cpu' setting for task: 'lots'/],
    ['an unparseable memory', td('bad', { memory: '2TB' }), 'ClientException', /Invalid 'memory' setting for task: '2TB'/],
    ['a mount of an undefined volume', td('bad', { containerDefinitions: [c('x', { mountPoints: [{ sourceVolume: 'v', containerPath: '/v' }] })] }), 'ClientException', /sourceVolume 'v' is not defined/],
    ['volumesFrom an unknown container', td('bad', { containerDefinitions: [c('x', { volumesFrom: [{ sourceContainer: 'ghost' }] })] }), 'ClientException', /volumesFrom sourceContainer 'ghost'/],
    ['duplicate volume names', td('bad', { volumes: [{ name: 'v' }, { name: 'v' }] }), 'ClientException', /Duplicate volume name 'v'/],
    ['autoprovision on a task-scoped volume', td('bad', { volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', autoprovision: true } }] }), 'ClientException', /autoprovision is only valid/],
    ['11 placement constraints', td('bad', { placementConstraints: Array.from({ length: 11 }, () => ({ type: 'memberOf' as const, expression: 'attribute:a == b' })) }), 'ClientException', /at most 10 placement constraints/],
    ['a placement constraint of type distinctInstance', td('bad', { placementConstraints: [{ type: 'distinctInstance' as 'memberOf' }] }), 'InvalidParameterException', /placementConstraints\[0\]\.type/],
    ['ulimit soft above hard', td('bad', { containerDefinitions: [c('x', { ulimits: [{ name: 'nofile', softLimit: 10, hardLimit: 5 }] })] }), 'ClientException', /softLimit greater than its hardLimit/],
    ['ephemeral storage of 10 GiB', td('bad', { ephemeralStorage: { sizeInGiB: 10 } }), 'ClientException', /between 21 and 200/],
    ['a proxy for a missing container', td('bad', { proxyConfiguration: { type: 'APPMESH', containerName: 'envoy' } }), 'ClientException', /proxyConfiguration containerName 'envoy'/],
    ['an aws: tag', td('bad', { tags: [{ key: 'aws:x', value: 'y' }] }), 'InvalidParameterException', /reserved/],
    ['an unknown network mode', td('bad', { networkMode: 'overlay' as 'bridge' }), 'InvalidParameterException', /Invalid value "overlay" for parameter 'networkMode'. Valid values: bridge, host, awsvpc, none./],
    ['an unknown dependency condition', td('bad', { containerDefinitions: [c('x', { dependsOn: [{ containerName: 'y', condition: 'READY' as 'START' }] }), c('y')] }), 'InvalidParameterException', /containerDefinitions\[0\]\.dependsOn\[0\]\.condition/],
  ];

  it.each(cases)('refuses %s', async (_label, input, type, message) => {
    const e = await failure(register(input));
    expect(e.name).toBe(type);
    expect(e.status).toBe(400);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('leaves nothing behind after refused registrations', async () => {
    const families = await api.ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'bad', status: 'ALL' }));
    expect(families.families).toEqual([]);
    // The next good registration of the family still gets revision 1.
    const ok = await register(minimalTaskDefinition('bad'));
    expect(ok.taskDefinition?.revision).toBe(1);
  });
});

describe('DescribeTaskDefinition', () => {
  it('resolves family (latest ACTIVE), family:revision and ARN', async () => {
    for (let i = 0; i < 3; i++) await register(minimalTaskDefinition('desc'));
    expect((await describeTd('desc')).taskDefinition?.revision).toBe(3);
    expect((await describeTd('desc:2')).taskDefinition?.revision).toBe(2);
    expect((await describeTd(tdArn('desc', 1))).taskDefinition?.revision).toBe(1);
    await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'desc:3' }));
    expect((await describeTd('desc')).taskDefinition?.revision).toBe(2);
    // An INACTIVE revision stays describable by revision.
    expect((await describeTd('desc:3')).taskDefinition?.status).toBe('INACTIVE');
  });

  it('returns tags only when asked', async () => {
    await register(minimalTaskDefinition('tagged-td', { tags: [{ key: 'a', value: 'b' }] }));
    expect((await describeTd('tagged-td')).tags).toBeUndefined();
    expect((await describeTd('tagged-td', ['TAGS'])).tags).toEqual([{ key: 'a', value: 'b' }]);
  });

  it.each(['nope', 'nope:1', 'desc:99', tdArn('nope', 1), 'arn:aws:ecs:eu-west-1:123456789012:task-definition/desc:1', 'bad name'])(
    'answers ClientException for %s',
    async (ref) => {
      const e = await failure(describeTd(ref));
      expect(e).toMatchObject({ name: 'ClientException', message: 'Unable to describe task definition.' });
    },
  );
});

describe('ListTaskDefinitions and ListTaskDefinitionFamilies', () => {
  let fixture: ApiFixture;
  beforeAll(async () => {
    fixture = await startApiFixture();
    for (const family of ['web', 'web-api', 'worker']) {
      for (let i = 0; i < 3; i++) await fixture.ecs.send(new RegisterTaskDefinitionCommand(minimalTaskDefinition(family)));
    }
    await fixture.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:2' }));
    for (let r = 1; r <= 3; r++) await fixture.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `worker:${r}` }));
  });
  afterAll(() => fixture.stop());

  const list = (input: ListTaskDefinitionsRequest) =>
    fixture.ecs.send(new ListTaskDefinitionsCommand(input));
  const names = (arns: string[] | undefined) => (arns ?? []).map((a) => a.split('/')[1]!);

  it('lists ACTIVE revisions by family then revision, and DESC in reverse', async () => {
    expect(names((await list({})).taskDefinitionArns)).toEqual(['web:1', 'web:3', 'web-api:1', 'web-api:2', 'web-api:3']);
    expect(names((await list({ sort: 'DESC' })).taskDefinitionArns)).toEqual(['web-api:3', 'web-api:2', 'web-api:1', 'web:3', 'web:1']);
  });

  it('filters by exact family and by status', async () => {
    expect(names((await list({ familyPrefix: 'web' })).taskDefinitionArns)).toEqual(['web:1', 'web:3']);
    expect(names((await list({ status: 'INACTIVE' })).taskDefinitionArns)).toEqual(['web:2', 'worker:1', 'worker:2', 'worker:3']);
  });

  it('pages with maxResults and nextToken', async () => {
    const all: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await list({ maxResults: 2, nextToken, sort: 'DESC' });
      all.push(...names(page.taskDefinitionArns));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(all).toEqual(['web-api:3', 'web-api:2', 'web-api:1', 'web:3', 'web:1']);
  });

  it('lists families by prefix and status', async () => {
    const fams = (input: ListTaskDefinitionFamiliesRequest) =>
      fixture.ecs.send(new ListTaskDefinitionFamiliesCommand(input)).then((r) => r.families);
    expect(await fams({})).toEqual(['web', 'web-api', 'worker']);
    expect(await fams({ status: 'ACTIVE' })).toEqual(['web', 'web-api']);
    expect(await fams({ status: 'INACTIVE' })).toEqual(['worker']);
    expect(await fams({ familyPrefix: 'web' })).toEqual(['web', 'web-api']);
    expect(await fams({ familyPrefix: 'web-', maxResults: 1 })).toEqual(['web-api']);
  });
});

describe('RegisterTaskDefinition fills in what ECS fills in', () => {
  it('gives an EFS volume without a root directory the root "/", and keeps one given', async () => {
    const { taskDefinition } = await register(
      minimalTaskDefinition('efs', {
        volumes: [
          { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0abc' } },
          { name: 'logs', efsVolumeConfiguration: { fileSystemId: 'fs-0abc', rootDirectory: '/logs', transitEncryption: 'ENABLED' } },
        ],
      }),
    );
    const expected = [
      { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0abc', rootDirectory: '/' } },
      { name: 'logs', efsVolumeConfiguration: { fileSystemId: 'fs-0abc', rootDirectory: '/logs', transitEncryption: 'ENABLED' } },
    ];
    expect(taskDefinition?.volumes).toEqual(expected);
    expect((await describeTd('efs')).taskDefinition?.volumes).toEqual(expected);
  });

  it('returns short role names as role ARNs (paths kept), ARNs as given, and drops empty ones', async () => {
    const role = (name: string) => `arn:aws:iam::${TEST_ACCOUNT}:role/${name}`;
    const named = await register(minimalTaskDefinition('roles', { taskRoleArn: 'app', executionRoleArn: 'service-role/exec' }));
    expect(named.taskDefinition).toMatchObject({ taskRoleArn: role('app'), executionRoleArn: role('service-role/exec') });
    const described = (await describeTd('roles')).taskDefinition;
    expect(described).toMatchObject({ taskRoleArn: role('app'), executionRoleArn: role('service-role/exec') });
    const full = await register(minimalTaskDefinition('roles', { taskRoleArn: 'arn:aws:iam::111122223333:role/x', executionRoleArn: '' }));
    expect(full.taskDefinition?.taskRoleArn).toBe('arn:aws:iam::111122223333:role/x');
    expect(full.taskDefinition).not.toHaveProperty('executionRoleArn');
  });

  it("refuses Fargate with pidMode host in ECS's words", async () => {
    const e = await failure(
      register(
        minimalTaskDefinition('fg-pid', { requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', pidMode: 'host' }),
      ),
    );
    expect(e).toEqual({
      name: 'ClientException',
      message: "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.",
      status: 400,
    });
  });
});

describe('DeregisterTaskDefinition', () => {
  it('makes a revision INACTIVE with deregisteredAt, and needs a revision', async () => {
    await register(minimalTaskDefinition('dereg'));
    const { taskDefinition } = await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: tdArn('dereg', 1) }));
    expect(taskDefinition?.status).toBe('INACTIVE');
    expect(taskDefinition?.deregisteredAt).toBeInstanceOf(Date);
    const noRevision = await failure(api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dereg' })));
    expect(noRevision).toMatchObject({ name: 'ClientException' });
    expect(noRevision.message).toBe('Revision is missing.');
    const unknown = await failure(api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dereg:9' })));
    expect(unknown).toMatchObject({ name: 'ClientException', message: 'The specified task definition does not exist.' });
    const latest = await failure(describeTd('dereg'));
    expect(latest.name).toBe('ClientException');
  });
});

describe('DeleteTaskDefinitions', () => {
  it('refuses ACTIVE revisions, deletes INACTIVE ones, and never reuses their revision numbers', async () => {
    await register(minimalTaskDefinition('del'));
    await register(minimalTaskDefinition('del'));
    await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'del:1' }));
    const result = await api.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['del:1', 'del:2', 'del:7'] }));
    expect(result.taskDefinitions?.map((t) => [t.revision, t.status])).toEqual([[1, 'DELETE_IN_PROGRESS']]);
    expect(result.taskDefinitions?.[0]?.deleteRequestedAt).toBeInstanceOf(Date);
    // Each failure names the item as it was given, with ECS's reason.
    expect(result.failures).toEqual([
      { arn: 'del:2', reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' },
      { arn: 'del:7', reason: 'The specified task definition does not exist. Specify a valid account, family, revision and try again.' },
    ]);
    await expect.poll(async () => (await failure(describeTd('del:1'))).name, { timeout: 5_000 }).toBe('ClientException');
    expect((await describeTd('del:2')).taskDefinition?.status).toBe('ACTIVE');
    const next = await register(minimalTaskDefinition('del'));
    expect(next.taskDefinition?.revision).toBe(3);
  });

  it('takes at most 10', async () => {
    const many = await failure(
      api.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: Array.from({ length: 11 }, (_, i) => `x:${i + 1}`) })),
    );
    expect(many.name).toBe('InvalidParameterException');
  });

  it("reports a bad item as that item's failure and still deletes the others", async () => {
    await register(minimalTaskDefinition('delmix'));
    await api.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'delmix:1' }));
    const items = ['x', 'no spaces:1', tdArn('delmix', 1), 'arn:aws:ecs:eu-west-1:999999999999:task-definition/delmix'];
    const result = await api.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: items }));
    expect(result.taskDefinitions?.map((t) => t.taskDefinitionArn)).toEqual([tdArn('delmix', 1)]);
    const invalid = 'The specified task definition identifier is invalid. Specify a valid name or ARN and try again.';
    expect(result.failures).toEqual([
      { arn: 'x', reason: invalid },
      { arn: 'no spaces:1', reason: invalid },
      { arn: items[3], reason: invalid },
    ]);
  });
});
