import { describe, expect, it } from 'vitest';
import { instance } from '../../scheduler/testing/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { reconcileService } from './reconcile.js';
import type { RegistryView } from './registry-view.js';
import type { ServicePlan } from './state.js';
import { addTask, agentStep, stateOf, TD_HEALTH, world, type World } from './testing/world.js';
import { withEvents } from '../../model/service/events.js';
import { ecsRegistrar } from '../../state/records/cloudmap.js';

/**
 * The pure side of services with `serviceRegistries`: which tasks become Cloud Map instances with which attributes,
 * when they leave (a stop planned, a task sick or gone), custom health, idempotence, other services' instances.
 */

const SRV = 'arn:aws:servicediscovery:us-east-1:000000000000:service/srv-backend';
const OLD = 'arn:aws:servicediscovery:us-east-1:000000000000:service/srv-old';
type Instances = { id: string; attributes: Record<string, string>; health: 'HEALTHY' | 'UNHEALTHY'; registeredBy?: string }[];
interface Registry {
  view: { arn: string; recordTypes: string[]; customHealth: boolean; instances: Instances };
}
const newRegistry = (recordTypes: string[], customHealth = false, arn = SRV): Registry => ({ view: { arn, recordTypes, customHealth, instances: [] } });

const hosts = [
  instance('i1', { attributes: { 'ecs.availability-zone': 'us-east-1a', 'berth.host-address': '10.0.0.1' } }),
  instance('i2', { attributes: { 'ecs.availability-zone': 'us-east-1b', 'berth.host-address': '10.0.0.2' } }),
];
const bridgeWorld = (desired = 2, extra: Parameters<typeof world>[0] = {}) =>
  world({ desired, instances: hosts, ...extra, service: { serviceRegistries: [{ registryArn: SRV, containerName: 'app', containerPort: 80 }], ...extra.service } });
const awsvpcWorld = (desired = 2) => world({ desired, instances: hosts, service: { serviceRegistries: [{ registryArn: SRV }] } });

let nextPort = 32768;
let nextIp = 10;
/** The agent moves a task; a RUNNING one gets a dynamic host port (bridge) or an address (awsvpc). */
function step(w: World, t: TaskRecord, awsvpc: boolean): void {
  agentStep(w, t);
  if (t.task.lastStatus === 'RUNNING' && !t.task.containers) {
    t.task.containers = awsvpc
      ? [{ name: 'app', networkInterfaces: [{ attachmentId: 'a', privateIpv4Address: `172.31.0.${nextIp++}` }] }]
      : [{ name: 'app', networkBindings: [{ containerPort: 80, hostPort: nextPort++, protocol: 'tcp' }] }];
  }
}

/** One pass, applied as the shell applies it (stops, launches, record; registry changes as applyServiceInstances). */
function pass(w: World, ...registries: Registry[]): ServicePlan {
  const plan = reconcileService({ ...stateOf(w), registries: new Map<string, RegistryView>(registries.map((r) => [r.view.arn, r.view])) });
  for (const c of plan.registryChanges ?? []) {
    const r = registries.find((x) => x.view.arn === c.registryArn)!.view;
    for (const i of c.register) {
      const had = r.instances.find((x) => x.id === i.id);
      if (had) had.attributes = { ...i.attributes };
      else r.instances.push({ id: i.id, attributes: { ...i.attributes }, health: 'HEALTHY' });
    }
    r.instances = r.instances.filter((x) => !c.deregister.includes(x.id));
    for (const h of c.health) r.instances.find((x) => x.id === h.id)!.health = h.health;
  }
  for (const stop of plan.stops) {
    const t = w.tasks.find((x) => x.id === stop.taskId)!;
    t.task.desiredStatus = 'STOPPED';
  }
  const deployment = plan.record.deployments?.find((d) => d.id === plan.launchDeploymentId);
  for (const i of plan.launches) addTask(w, i, deployment!);
  w.record = { ...plan.record, events: withEvents(plan.record.events ?? [], plan.events, w.now, () => `e${w.nextId++}`) };
  return plan;
}

function run(w: World, registry: Registry, awsvpc = false, rounds = 4): void {
  for (let i = 0; i < rounds; i++) {
    pass(w, registry);
    for (const t of w.tasks) if (t.task.lastStatus !== 'STOPPED' && (t.task.lastStatus !== 'RUNNING' || t.task.desiredStatus === 'STOPPED')) step(w, t, awsvpc);
  }
}

const live = (w: World) => w.tasks.filter((t) => t.task.lastStatus === 'RUNNING' && t.task.desiredStatus === 'RUNNING');

describe('planRegistries', () => {
  it('registers each RUNNING bridge task with the host address, its dynamic host port and ECS attributes (SRV)', () => {
    const w = bridgeWorld();
    const registry = newRegistry(['SRV']);
    // A task not yet RUNNING is not registered.
    pass(w, registry);
    expect(registry.view.instances).toEqual([]);
    run(w, registry);
    expect(live(w)).toHaveLength(2);
    expect(registry.view.instances.map((i) => i.id).sort()).toEqual(live(w).map((t) => t.id).sort());
    for (const t of live(w)) {
      const host = hosts.find((h) => h.id === t.instanceId)!;
      expect(registry.view.instances.find((i) => i.id === t.id)!.attributes).toEqual({
        AWS_INSTANCE_IPV4: host.attributes.get('berth.host-address'),
        AWS_INSTANCE_PORT: String(t.task.containers![0]!.networkBindings![0]!.hostPort),
        AVAILABILITY_ZONE: host.attributes.get('ecs.availability-zone'),
        ECS_CLUSTER_NAME: 'c',
        ECS_SERVICE_NAME: 'web',
        ECS_TASK_DEFINITION_FAMILY: 'web',
        REGION: 'us-east-1',
      });
    }
  });

  it('registers awsvpc tasks by their own address, without a port for A records', () => {
    const w = awsvpcWorld();
    const registry = newRegistry(['A']);
    run(w, registry, true);
    const addresses = registry.view.instances.map((i) => i.attributes.AWS_INSTANCE_IPV4).sort();
    expect(addresses).toEqual(live(w).map((t) => t.task.containers![0]!.networkInterfaces![0]!.privateIpv4Address).sort());
    expect(registry.view.instances.every((i) => i.attributes.AWS_INSTANCE_PORT === undefined)).toBe(true);
  });

  it('uses the registry port for awsvpc tasks when given', () => {
    const w = world({ desired: 1, instances: hosts, service: { serviceRegistries: [{ registryArn: SRV, port: 8080 }] } });
    const registry = newRegistry(['A', 'SRV']);
    run(w, registry, true);
    expect(registry.view.instances[0]!.attributes.AWS_INSTANCE_PORT).toBe('8080');
  });

  it('waits for the host address: a bridge task on a host without berth.host-address is not registered', () => {
    const w = bridgeWorld(1, { instances: [instance('i1', { attributes: { 'ecs.availability-zone': 'a' } })] });
    const registry = newRegistry(['SRV']);
    run(w, registry);
    expect(live(w)).toHaveLength(1);
    expect(registry.view.instances).toEqual([]);
  });

  it('deregisters a task in the pass that plans its stop (scale-in), and one stopped on its own', () => {
    const w = bridgeWorld(3);
    const registry = newRegistry(['SRV']);
    run(w, registry);
    expect(registry.view.instances).toHaveLength(3);
    w.record = { ...w.record, desiredCount: 2 };
    const plan = pass(w, registry);
    expect(plan.stops).toHaveLength(1);
    expect(registry.view.instances.map((i) => i.id)).not.toContain(plan.stops[0]!.taskId);
    expect(registry.view.instances).toHaveLength(2);
    // StopTask by someone else: desired STOPPED, still RUNNING: it leaves at once.
    const victim = live(w)[0]!;
    victim.task.desiredStatus = 'STOPPED';
    pass(w, registry);
    expect(registry.view.instances.map((i) => i.id)).not.toContain(victim.id);
  });

  it('registers a task with health checks only once HEALTHY, and deregisters it when UNHEALTHY (no custom health)', () => {
    const w = bridgeWorld(1, { taskDefinition: TD_HEALTH });
    const registry = newRegistry(['SRV']);
    run(w, registry);
    expect(live(w)).toHaveLength(1);
    expect(registry.view.instances).toEqual([]);
    const t = live(w)[0]!;
    t.task.healthStatus = 'HEALTHY';
    pass(w, registry);
    expect(registry.view.instances.map((i) => i.id)).toEqual([t.id]);
    t.task.healthStatus = 'UNHEALTHY';
    pass(w, registry);
    expect(registry.view.instances).toEqual([]);
  });

  it('with HealthCheckCustomConfig marks a sick registered task UNHEALTHY and HEALTHY again instead', () => {
    const w = bridgeWorld(1, { taskDefinition: TD_HEALTH, service: { healthCheckGracePeriodSeconds: 3600 } });
    const registry = newRegistry(['SRV'], true);
    run(w, registry);
    const t = live(w)[0]!;
    t.task.healthStatus = 'HEALTHY';
    pass(w, registry);
    t.task.healthStatus = 'UNHEALTHY';
    const sick = pass(w, registry);
    expect(sick.registryChanges).toEqual([{ registryArn: SRV, register: [], deregister: [], health: [{ id: t.id, health: 'UNHEALTHY' }] }]);
    expect(registry.view.instances).toMatchObject([{ id: t.id, health: 'UNHEALTHY' }]);
    t.task.healthStatus = 'HEALTHY';
    pass(w, registry);
    expect(registry.view.instances).toMatchObject([{ id: t.id, health: 'HEALTHY' }]);
  });

  it('changes nothing once in line (idempotent), and leaves other services’ instances alone', () => {
    const w = bridgeWorld();
    const registry = newRegistry(['SRV']);
    const other = { id: 'x1', attributes: { AWS_INSTANCE_IPV4: '10.9.9.9', AWS_INSTANCE_PORT: '1', ECS_CLUSTER_NAME: 'c', ECS_SERVICE_NAME: 'other' }, health: 'HEALTHY' as const };
    const manual = { id: 'm1', attributes: { AWS_INSTANCE_IPV4: '10.9.9.8', AWS_INSTANCE_PORT: '2' }, health: 'HEALTHY' as const };
    registry.view.instances.push(other, manual);
    run(w, registry);
    expect(pass(w, registry).registryChanges).toBeUndefined();
    expect(registry.view.instances.map((i) => i.id)).toEqual(expect.arrayContaining(['x1', 'm1']));
    // An instance of this service whose task is gone (forgotten) goes.
    registry.view.instances.push({ id: 'gone', attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '3', ECS_CLUSTER_NAME: 'c', ECS_SERVICE_NAME: 'web' }, health: 'HEALTHY' });
    expect(pass(w, registry).registryChanges).toEqual([{ registryArn: SRV, register: [], deregister: ['gone'], health: [] }]);
  });

  it('deregisters only what this ECS service registered: instances of RegisterInstance or another ECS service with its attributes stay', () => {
    const w = bridgeWorld();
    const registry = newRegistry(['SRV']);
    run(w, registry);
    const attributes = { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '3', ECS_CLUSTER_NAME: 'c', ECS_SERVICE_NAME: 'web' };
    registry.view.instances.push(
      { id: 'by-api', attributes, health: 'HEALTHY', registeredBy: 'api' },
      { id: 'by-other', attributes, health: 'HEALTHY', registeredBy: ecsRegistrar('arn:aws:ecs:us-east-1:000000000000:service/c2/web') },
      { id: 'by-us', attributes, health: 'HEALTHY', registeredBy: ecsRegistrar(w.record.serviceArn!) },
    );
    expect(pass(w, registry).registryChanges).toEqual([{ registryArn: SRV, register: [], deregister: ['by-us'], health: [] }]);
  });

  it('empties a former registry, then forgets it', () => {
    const w = bridgeWorld();
    const old = newRegistry(['SRV'], false, OLD);
    w.record = { ...w.record, serviceRegistries: [{ registryArn: OLD, containerName: 'app', containerPort: 80 }] };
    run(w, old);
    expect(old.view.instances).toHaveLength(2);
    const current = newRegistry(['SRV']);
    w.record = { ...w.record, serviceRegistries: [{ registryArn: SRV, containerName: 'app', containerPort: 80 }], berth: { ...w.record.berth, formerRegistries: [OLD] } };
    const plan = pass(w, current, old);
    expect(old.view.instances).toEqual([]);
    expect(current.view.instances).toHaveLength(2);
    expect(plan.record.berth.formerRegistries).toEqual([OLD]);
    expect(pass(w, current, old).record.berth.formerRegistries).toBeUndefined();
  });

  it('deregisters every task of a deleted (DRAINING) service', () => {
    const w = bridgeWorld();
    const registry = newRegistry(['SRV']);
    run(w, registry);
    w.record = { ...w.record, status: 'DRAINING', desiredCount: 0 };
    pass(w, registry);
    expect(registry.view.instances).toEqual([]);
  });
});
