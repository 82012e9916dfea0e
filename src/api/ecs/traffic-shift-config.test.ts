import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand, type CreateServiceCommandInput } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/**
 * CreateService/UpdateService with traffic-shifting strategies, through the SDK: what is stored and shown
 * (ECS's defaults filled in), and what is refused (InvalidParameterException naming the field, nothing written).
 */
let api: ApiFixture;
let elb: ElasticLoadBalancingV2Client;
const cluster = 'shift-api';
let blue = '';
let green = '';
let other = '';
let prodRule = '';
let testRule = '';
let listener = '';

beforeAll(async () => {
  api = await startApiFixture();
  elb = new ElasticLoadBalancingV2Client({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'web', networkMode: 'awsvpc', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, portMappings: [{ containerPort: 80 }] }] }),
  );
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'front', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0]!;
  const tg = async (Name: string, TargetType: 'ip' | 'instance' = 'ip') =>
    (await elb.send(new CreateTargetGroupCommand({ Name, Protocol: 'HTTP', Port: 80, TargetType }))).TargetGroups![0]!.TargetGroupArn!;
  blue = await tg('blue');
  green = await tg('green');
  other = await tg('inst', 'instance');
  listener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] })))
    .Listeners![0]!.ListenerArn!;
  const rule = async (Priority: number, path: string) =>
    (await elb.send(new CreateRuleCommand({ ListenerArn: listener, Priority, Conditions: [{ Field: 'path-pattern', Values: [path] }], Actions: [{ Type: 'forward', TargetGroupArn: blue }] }))).Rules![0]!
      .RuleArn!;
  prodRule = await rule(10, '/*');
  testRule = await rule(5, '/test/*');
});
afterAll(async () => {
  elb?.destroy();
  await api?.stop();
});

const VPC = { awsvpcConfiguration: { subnets: ['subnet-a'] } };
const lbs = (advanced: object | null = { alternateTargetGroupArn: green, productionListenerRule: prodRule, testListenerRule: testRule }) => [
  { targetGroupArn: blue, containerName: 'app', containerPort: 80, ...(advanced ? { advancedConfiguration: advanced } : {}) },
];
const create = (name: string, input: Partial<CreateServiceCommandInput>) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: name, taskDefinition: 'web', desiredCount: 1, networkConfiguration: VPC, ...input }));

describe('traffic-shifting strategies', () => {
  it('stores and shows CANARY and LINEAR with ECS defaults, BLUE_GREEN with its bake time, and the advanced configuration', async () => {
    const canary = (await create('canary', { loadBalancers: lbs(), deploymentConfiguration: { strategy: 'CANARY' } })).service!;
    expect(canary.deploymentConfiguration).toMatchObject({ strategy: 'CANARY', bakeTimeInMinutes: 0, canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 } });
    expect(canary.loadBalancers![0]!.advancedConfiguration).toEqual({ alternateTargetGroupArn: green, productionListenerRule: prodRule, testListenerRule: testRule });
    const linear = (await create('linear', { deploymentConfiguration: { strategy: 'LINEAR', linearConfiguration: { stepPercent: 12.5 } } })).service!;
    expect(linear.deploymentConfiguration).toMatchObject({ strategy: 'LINEAR', linearConfiguration: { stepPercent: 12.5, stepBakeTimeInMinutes: 6 } });
    const hooks = [{ hookTargetArn: 'arn:aws:lambda:us-east-1:123456789012:function:check', roleArn: 'arn:aws:iam::123456789012:role/hooks', lifecycleStages: ['POST_SCALE_UP' as const] }];
    const bg = (await create('bg', { loadBalancers: lbs(null).map((l) => ({ ...l, advancedConfiguration: { alternateTargetGroupArn: green, productionListenerRule: listener } })), deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 15, lifecycleHooks: hooks } })).service!;
    expect(bg.deploymentConfiguration).toMatchObject({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 15, lifecycleHooks: [{ ...hooks[0], targetType: 'AWS_LAMBDA' }] });
    // Switching strategy: the new one's settings start from ECS's defaults.
    const updated = (await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'canary', deploymentConfiguration: { strategy: 'LINEAR' } }))).service!;
    expect(updated.deploymentConfiguration).toMatchObject({ strategy: 'LINEAR', linearConfiguration: { stepPercent: 10, stepBakeTimeInMinutes: 6 } });
    expect(updated.deploymentConfiguration!.canaryConfiguration).toBeUndefined();
  });

  it.each([
    ['an unknown strategy', { deploymentConfiguration: { strategy: 'SIDEWAYS' as never } }, /deploymentConfiguration\.strategy/],
    ['BLUE_GREEN without a bake time', { deploymentConfiguration: { strategy: 'BLUE_GREEN' as const } }, /bakeTimeInMinutes is required/],
    ['a bake time over 1440', { deploymentConfiguration: { strategy: 'BLUE_GREEN' as const, bakeTimeInMinutes: 1441 } }, /bakeTimeInMinutes/],
    ['canaryPercent off the 0.1 grid', { deploymentConfiguration: { strategy: 'CANARY' as const, canaryConfiguration: { canaryPercent: 5.05 } } }, /canaryPercent must be a multiple of 0\.1/],
    ['canaryPercent 0', { deploymentConfiguration: { strategy: 'CANARY' as const, canaryConfiguration: { canaryPercent: 0 } } }, /canaryPercent/],
    ['stepPercent under 3', { deploymentConfiguration: { strategy: 'LINEAR' as const, linearConfiguration: { stepPercent: 2.9 } } }, /stepPercent/],
    ['a canary configuration with LINEAR', { deploymentConfiguration: { strategy: 'LINEAR' as const, canaryConfiguration: { canaryPercent: 5 } } }, /canaryConfiguration is only valid with the CANARY/],
    ['hooks with ROLLING', { deploymentConfiguration: { lifecycleHooks: [{ hookTargetArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', roleArn: 'arn:aws:iam::123456789012:role/r', lifecycleStages: ['PRE_SCALE_UP' as const] }] } }, /lifecycleHooks/],
    ['a PAUSE hook', { deploymentConfiguration: { strategy: 'CANARY' as const, lifecycleHooks: [{ targetType: 'PAUSE' as const, lifecycleStages: ['PRE_SCALE_UP' as const] }] } }, /PAUSE hooks are not supported/],
    ['load balancers without advancedConfiguration', () => ({ loadBalancers: lbs(null), deploymentConfiguration: { strategy: 'CANARY' as const } }), /advancedConfiguration is required/],
    ['the alternate being the target group itself', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: blue, productionListenerRule: prodRule }) }), /alternateTargetGroupArn must be another/],
    ['an alternate of another target type', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: other, productionListenerRule: prodRule }) }), /alternateTargetGroupArn.*target type instance/],
    ['no production listener rule', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: green }) }), /productionListenerRule is required/],
    ['a production rule that does not exist', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: green, productionListenerRule: `${prodRule.slice(0, -1)}${prodRule.endsWith('0') ? '1' : '0'}` }) }), /productionListenerRule.*exists/],
    ['the test rule being the production rule', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: green, productionListenerRule: prodRule, testListenerRule: prodRule }) }), /testListenerRule must be another/],
    ['a roleArn that is not a role', () => ({ loadBalancers: lbs({ alternateTargetGroupArn: green, productionListenerRule: prodRule, roleArn: 'arn:aws:iam::123456789012:user/u' }) }), /roleArn/],
  ])('refuses %s naming the field', async (_what, input, message) => {
    // (Rows naming ELB resources are thunks: the ARNs exist only once beforeAll ran. The missing rule's ARN changes the
    // real one's last hex digit, to another digit whatever it was: its id is random.)
    const given = typeof input === 'function' ? input() : input;
    const error = await failure(create('refused', given as Partial<CreateServiceCommandInput>));
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toMatch(message);
  });
});
