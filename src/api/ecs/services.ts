import { randomInt } from 'node:crypto';
import type {
  CreateServiceRequest,
  DeleteServiceRequest,
  DescribeServicesRequest,
  ListServicesByNamespaceRequest,
  ListServicesRequest,
  PlacementConstraint,
  PlacementStrategy,
  Service,
  TaskDefinition,
  UpdateServiceRequest,
} from '@aws-sdk/client-ecs';
import { clusterArn, ecsArn, missingArn, parseOwnEcsArn } from '../../model/arn.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import type { ClusterRecord } from '../../model/cluster.js';
import { clientError, clusterNotFound, invalidParameter, ServiceError } from '../../model/errors.js';
import {
  deploymentConfigurationOf,
  deploymentIdFrom,
  limitsOf,
  newDeployment,
  serviceGroup,
  type PropagateTags,
  type SchedulingStrategy,
} from '../../model/service/service.js';
import { checkedServiceRegistries } from './service-registries.js';
import { checkedLoadBalancers } from './service-load-balancers.js';
import { isShifting, shiftConfigFields, shiftConfigOf, storedShiftConfig, type GivenConfig, type ShiftConfig } from '../../model/service/shift-config.js';
import { deploymentLimitsOf, desiredCountOf, gracePeriodOf, refuseUnsupported, validateServiceName } from '../../model/service/validate.js';
import { FULL_SCALE, newTaskSet, rescaled, taskSetArn } from '../../model/service/task-sets.js';
import { validateTags } from '../../model/tags.js';
import { awsvpcConfigurationFor } from '../../model/task-eni.js';
import { taskNeeds } from '../../model/task.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import { describedService, type ServiceRecord } from '../../state/records/services.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { activeCluster } from './clusters.js';
import { checkedServiceConnect, discoveryResources, listServicesByNamespace, type ServiceConnectDeployment } from './service-connect.js';
import type { EcsEnv } from './env.js';
import { placementRequestOf } from '../../state/placement-request.js';
import { findTaskDefinition } from './task-definitions.js';
import { markProvidersInUse } from './cluster-capacity.js';
import { deploymentLaunch, isFargateLaunch, launchFieldsOf, serviceLaunchOf, updatedServiceLaunch, withLaunch } from './service-capacity.js';
import { parseServiceRecord } from '../../state/records/services.js';
import { parseClusterRecord } from '../../state/records/clusters.js';
import { recordServiceDeployment, settleServiceDeployments } from '../../state/service-deployments.js';
import type { Tx } from '../../store/transact.js';

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` */
export const serviceArn = (env: EcsEnv, cluster: string, name: string) => ecsArn(env.scope, 'service', `${cluster}/${name}`);

const serviceNotFound = () => new ServiceError('ServiceNotFoundException', ecsMessage('serviceNotFound'));
const serviceNotActive = () => new ServiceError('ServiceNotActiveException', ecsMessage('serviceNotActive'));

/** A service name from a name or an ARN (`service/<cluster>/<name>`, or the old `service/<name>`) of this cluster. */
export function serviceNameOf(env: EcsEnv, cluster: string, ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return ref;
  const parts = parseOwnEcsArn(env.scope, ref, 'service')?.split('/') ?? [];
  if (parts.length === 1) return parts[0];
  return parts.length === 2 && parts[0] === cluster ? parts[1] : undefined;
}


/** A task definition a service (or a task set) may run: ACTIVE (its launch checks it is compatible: service-capacity.ts). */
export async function serviceTaskDefinition(env: EcsEnv, ref: string): Promise<Wire<TaskDefinition>> {
  const record = await findTaskDefinition(env, ref);
  if (!record) throw clientError(`TaskDefinition not found: taskDefinition '${ref}' does not name a registered task definition.`);
  const td = record.taskDefinition;
  if (td.status !== 'ACTIVE') throw clientError(`TaskDefinition is inactive: taskDefinition ${td.taskDefinitionArn}.`);
  return td;
}

/** Check a service's placement constraints and strategies against its task definition (CQL, limits). */
function checkPlacement(
  name: string,
  td: Wire<TaskDefinition>,
  strategy: SchedulingStrategy,
  constraints: readonly PlacementConstraint[],
  strategies: readonly PlacementStrategy[],
): void {
  if (strategy === 'DAEMON' && strategies.length > 0) {
    throw invalidParameter('placementStrategy: the daemon scheduling strategy does not support placement strategies.');
  }
  placementRequestOf(td, { count: 1, needs: taskNeeds(td), group: serviceGroup(name) }, constraints, strategies);
}

/** The task definition a service runs now (for checks against it when an update does not change it). */
async function currentTaskDefinition(env: EcsEnv, cluster: string, ref: string): Promise<Wire<TaskDefinition> | undefined> {
  const name = serviceNameOf(env, cluster, ref);
  const current = name ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, name)) : undefined;
  return current?.taskDefinition ? (await findTaskDefinition(env, current.taskDefinition))?.taskDefinition : undefined;
}

/** A new deployment or task set id, `ecs-svc/` and 19 random digits. */
export const newDeploymentId = () => deploymentIdFrom(() => randomInt(10));

type Controller = 'ECS' | 'EXTERNAL' | 'CODE_DEPLOY';

/**
 * The deployment controller a CreateService asks for, checked against what comes with it: the EXTERNAL
 * controller takes its task definition and network configuration per task set, and no controller but ECS's
 * runs DAEMON services.
 */
function controllerOf(input: CreateServiceRequest): Controller {
  const type = (input.deploymentController?.type ?? 'ECS') as Controller;
  if (type !== 'ECS' && input.schedulingStrategy === 'DAEMON') {
    throw invalidParameter(
      `schedulingStrategy: the CODE_DEPLOY and EXTERNAL deployment controller types don't support the DAEMON scheduling strategy.`,
    );
  }
  if (type === 'EXTERNAL' && input.networkConfiguration) {
    throw invalidParameter('networkConfiguration: a service with the EXTERNAL deployment controller takes it per task set (CreateTaskSet).');
  }
  return type;
}

/** What UpdateService cannot change on a service deployed with task sets (a new task set does that). */
function refuseTaskSetChanges(controller: string | undefined, input: UpdateServiceRequest): void {
  if (controller === 'CODE_DEPLOY' && input.taskDefinition) {
    throw invalidParameter('Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.');
  }
  if (controller === 'EXTERNAL' || controller === 'CODE_DEPLOY') {
    for (const [field, value] of [
      ['taskDefinition', input.taskDefinition],
      ['networkConfiguration', input.networkConfiguration],
      ['forceNewDeployment', input.forceNewDeployment || undefined],
    ] as const) {
      if (value !== undefined && value !== null) {
        throw invalidParameter(`${field}: a service with the ${controller} deployment controller changes it with a new task set, not with UpdateService.`);
      }
    }
  }
  if (input.deploymentController && input.deploymentController.type !== (controller ?? 'ECS')) {
    throw invalidParameter(`deploymentController: berth cannot change a service's deployment controller (${controller ?? 'ECS'}) after it was created.`);
  }
}

/** A shifting strategy with load balancers needs each entry's alternate target group and production rule. */
function checkShiftingLoadBalancers(config: ShiftConfig, lbs: readonly { advancedConfiguration?: unknown }[]): void {
  if (!isShifting(config.strategy)) return;
  if (lbs.some((lb) => !lb.advancedConfiguration)) {
    throw invalidParameter(`loadBalancers.advancedConfiguration is required for each load balancer with the ${config.strategy} deployment strategy.`);
  }
}

/** The Service Connect configuration of a service's PRIMARY deployment, if it has one on. */
function primaryServiceConnect(s: ServiceRecord | undefined): ServiceConnectDeployment['serviceConnectConfiguration'] | undefined {
  return primaryServiceConnectDeployment(s)?.serviceConnectConfiguration;
}

function primaryServiceConnectDeployment(s: ServiceRecord | undefined): ServiceConnectDeployment | undefined {
  const d = s?.deployments?.find((x) => x.status === 'PRIMARY') as Partial<ServiceConnectDeployment> | undefined;
  return d?.serviceConnectConfiguration?.enabled ? { serviceConnectConfiguration: d.serviceConnectConfiguration, serviceConnectResources: d.serviceConnectResources ?? [] } : undefined;
}

export function serviceOperations(env: EcsEnv) {
  /** Read-modify-write one ACTIVE service. */
  async function updateActive(
    cluster: string,
    ref: string,
    change: (r: ServiceRecord) => ServiceRecord,
    also?: (tx: Tx, before: ServiceRecord, after: ServiceRecord) => Promise<void>,
  ): Promise<ServiceRecord> {
    const name = serviceNameOf(env, cluster, ref);
    return transact(env.store, async (tx) => {
      const record = name ? await tx.getRecord(parseServiceRecord, keys.service(cluster, name)) : undefined;
      if (!record) throw serviceNotFound();
      if (record.status !== 'ACTIVE') throw serviceNotActive();
      const next = change(record);
      tx.putJson(keys.service(cluster, record.serviceName!), next);
      await also?.(tx, record, next);
      return next;
    });
  }

  return {
    async CreateService(input: CreateServiceRequest, call: CallContext) {
      const clusterRecord = await activeCluster(env, input.cluster);
      const cluster = clusterRecord.clusterName;
      const name = validateServiceName(input.serviceName);
      refuseUnsupported(input);
      const controller = controllerOf(input);
      const strategy: SchedulingStrategy = input.schedulingStrategy ?? 'REPLICA';
      const desired = desiredCountOf(strategy, input.desiredCount, true) ?? 0;
      const limits = deploymentLimitsOf(strategy, input.deploymentConfiguration);
      const shiftConfig = shiftConfigOf(input.deploymentConfiguration as GivenConfig | undefined, undefined, { scheduling: strategy, controller });
      const grace = gracePeriodOf(input.healthCheckGracePeriodSeconds);
      if (!input.taskDefinition && controller !== 'EXTERNAL') {
        throw invalidParameter(`taskDefinition is required for a service with the ${controller} deployment controller.`);
      }
      // EXTERNAL: each task set brings its own task definition, so the service's (if given) is not used.
      const td = controller !== 'EXTERNAL' ? await serviceTaskDefinition(env, input.taskDefinition!) : undefined;
      const launch = await serviceLaunchOf(env, input, clusterRecord, td, controller);
      const constraints = input.placementConstraints ?? [];
      const strategies = input.placementStrategy ?? [];
      if (td) checkPlacement(name, td, strategy, constraints, strategies);
      const awsvpc = td ? awsvpcConfigurationFor(td.networkMode, input.networkConfiguration, { fargate: isFargateLaunch(launch) }) : undefined;
      const loadBalancers = await checkedLoadBalancers(env, input.loadBalancers ?? [], td);
      checkShiftingLoadBalancers(shiftConfig, loadBalancers);
      const serviceConnect = await checkedServiceConnect(env, input.serviceConnectConfiguration, td, clusterRecord.serviceConnectDefaults?.namespace);
      if (serviceConnect && controller !== 'ECS') throw invalidParameter(`serviceConnectConfiguration: Service Connect needs the ECS deployment controller, not ${controller}.`);
      const serviceRegistries = await checkedServiceRegistries(env, input.serviceRegistries ?? [], td);
      const tags = validateTags(input.tags);
      if (input.clientToken !== undefined && !/^[\x21-\x7e]{1,36}$/.test(input.clientToken)) {
        throw invalidParameter('clientToken: up to 36 ASCII characters from ! to ~.');
      }
      // The Cloud Map services ECS makes for the discovery names, once every check has passed.
      const sc: ServiceConnectDeployment | {} = serviceConnect ? await discoveryResources(env, serviceConnect) : {};
      const now = env.now();
      const deploymentId = newDeploymentId();
      const arn = serviceArn(env, cluster, name);
      // CODE_DEPLOY: ECS makes the first task set from the service's task definition; CodeDeploy makes the next.
      const firstSet =
        controller === 'CODE_DEPLOY'
          ? {
              ...newTaskSet({
                id: deploymentId,
                arn: taskSetArn(env.scope, cluster, name, deploymentId),
                serviceArn: arn,
                clusterArn: clusterArn(env.scope, cluster),
                taskDefinition: td!.taskDefinitionArn!,
                desiredCount: desired,
                scale: { ...FULL_SCALE },
                nowMs: now,
                ...(awsvpc ? { networkConfiguration: { awsvpcConfiguration: awsvpc } } : {}),
                ...deploymentLaunch(launch),
              }),
              status: 'PRIMARY',
            }
          : undefined;
      const fresh: ServiceRecord = {
        serviceArn: arn,
        serviceName: name,
        clusterArn: clusterArn(env.scope, cluster),
        loadBalancers,
        serviceRegistries,
        status: 'ACTIVE',
        desiredCount: desired,
        runningCount: 0,
        pendingCount: 0,
        ...launch,
        ...(td ? { taskDefinition: td.taskDefinitionArn! } : {}),
        deploymentConfiguration: { ...deploymentConfigurationOf(limits), ...shiftConfigFields(shiftConfig) },
        deployments: controller === 'ECS' ? [{ ...withLaunch(newDeployment(deploymentId, td!.taskDefinitionArn!, desired, now, awsvpc), deploymentLaunch(launch)), ...sc }] : [],
        ...(controller !== 'ECS' ? { taskSets: firstSet ? [firstSet] : [] } : {}),
        events: [],
        createdAt: now / 1000,
        placementConstraints: constraints,
        placementStrategy: strategies,
        ...(awsvpc ? { networkConfiguration: { awsvpcConfiguration: awsvpc } } : {}),
        ...(grace !== undefined ? { healthCheckGracePeriodSeconds: grace } : {}),
        schedulingStrategy: strategy,
        deploymentController: { type: controller },
        tags,
        createdBy: call.principal.arn,
        enableECSManagedTags: input.enableECSManagedTags ?? false,
        propagateTags: (input.propagateTags ?? 'NONE') satisfies PropagateTags,
        enableExecuteCommand: input.enableExecuteCommand ?? false,
        berth: { cluster, ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}) },
      };
      const record = await transact(env.store, async (tx) => {
        // Writing the cluster record makes a concurrent DeleteCluster (which reads it) conflict and look again.
        const clusterRecord = await tx.getRecord(parseClusterRecord, keys.cluster(cluster));
        if (clusterRecord?.status !== 'ACTIVE') throw clusterNotFound();
        const existing = await tx.getRecord(parseServiceRecord, keys.service(cluster, name));
        if (existing?.status === 'ACTIVE') {
          if (input.clientToken !== undefined && existing.berth.clientToken === input.clientToken) return existing;
          throw invalidParameter('Creation of service was not idempotent.');
        }
        if (existing?.status === 'DRAINING') throw invalidParameter('Unable to Start a service that is still Draining.');
        tx.putJson(keys.cluster(cluster), clusterRecord);
        tx.putJson(keys.service(cluster, name), fresh);
        markProvidersInUse(tx, cluster, fresh.capacityProviderStrategy, now);
        await recordServiceDeployment(tx, env.scope, existing, fresh, td, now);
        return fresh;
      });
      return { service: describedService(record, true) };
    },

    async UpdateService(input: UpdateServiceRequest) {
      const clusterRecord = await activeCluster(env, input.cluster);
      const cluster = clusterRecord.clusterName;
      refuseUnsupported(input);
      const grace = gracePeriodOf(input.healthCheckGracePeriodSeconds);
      const td = input.taskDefinition ? await serviceTaskDefinition(env, input.taskDefinition) : undefined;
      // New constraints are checked together with the task definition's (at most 10 in all).
      const placementTd = td ?? (input.placementConstraints || input.placementStrategy ? await currentTaskDefinition(env, cluster, input.service!) : undefined);
      // awsvpc: the network configuration goes with the task definition; checked against the one deployed next.
      const nextTd = td ?? (input.networkConfiguration ? placementTd ?? (await currentTaskDefinition(env, cluster, input.service!)) : undefined);
      // The revision a new deployment rolls out names its container images: from the task definition it runs.
      const revisionTd = input.taskDefinition || input.forceNewDeployment || input.networkConfiguration
        ? (td ?? nextTd ?? (await currentTaskDefinition(env, cluster, input.service!)))
        : undefined;
      // Load balancers given, or a new task definition: checked against the task definition deployed next.
      const lbName = input.loadBalancers || td ? serviceNameOf(env, cluster, input.service!) : undefined;
      const lbCurrent = lbName ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, lbName)) : undefined;
      const lbTd = input.loadBalancers ? (td ?? (await currentTaskDefinition(env, cluster, input.service!))) : td;
      const loadBalancers = input.loadBalancers || lbCurrent?.loadBalancers?.length ? await checkedLoadBalancers(env, input.loadBalancers ?? lbCurrent?.loadBalancers ?? [], lbTd) : undefined;
      // Service Connect: given, or carried over to a new task definition (whose port names are checked again).
      const scCurrent = input.serviceConnectConfiguration || td ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, serviceNameOf(env, cluster, input.service!) ?? '')) : undefined;
      const scBefore = primaryServiceConnect(scCurrent);
      const scTd = td ?? (input.serviceConnectConfiguration ? await currentTaskDefinition(env, cluster, input.service!) : undefined);
      const scChecked = input.serviceConnectConfiguration || (td && scBefore) ? await checkedServiceConnect(env, input.serviceConnectConfiguration ?? scBefore, scTd, clusterRecord.serviceConnectDefaults?.namespace) : undefined;
      const scNext: ServiceConnectDeployment | undefined = scChecked ? await discoveryResources(env, scChecked) : undefined;
      // Registries given, or a new task definition for a service with one: checked against the one deployed next.
      const srCurrent = input.serviceRegistries || td ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, serviceNameOf(env, cluster, input.service!) ?? '')) : undefined;
      const srGiven = input.serviceRegistries ?? (td ? srCurrent?.serviceRegistries : undefined);
      const serviceRegistries = srGiven?.length || input.serviceRegistries
        ? await checkedServiceRegistries(env, srGiven ?? [], td ?? (await currentTaskDefinition(env, cluster, input.service!)))
        : undefined;
      const now = env.now();
      // The launch (launch type or strategy, platform version) the service switches to, if it does.
      const current = await readRecord(env.store, parseServiceRecord, keys.service(cluster, serviceNameOf(env, cluster, input.service!) ?? ''));
      const launch = current ? await updatedServiceLaunch(env, input, current, clusterRecord, td) : undefined;
      const record = await updateActive(cluster, input.service!, (s) => {
        refuseTaskSetChanges(s.deploymentController?.type, input);
        const strategy = (s.schedulingStrategy ?? 'REPLICA') as SchedulingStrategy;
        const desired = desiredCountOf(strategy, input.desiredCount, false) ?? s.desiredCount ?? 0;
        const limits = deploymentLimitsOf(strategy, input.deploymentConfiguration, limitsOf(strategy, s.deploymentConfiguration));
        const shiftConfig = shiftConfigOf(input.deploymentConfiguration as GivenConfig | undefined, storedShiftConfig(s.deploymentConfiguration as GivenConfig | undefined), {
          scheduling: strategy,
          controller: s.deploymentController?.type ?? 'ECS',
        });
        checkShiftingLoadBalancers(shiftConfig, loadBalancers ?? s.loadBalancers ?? []);
        const constraints = input.placementConstraints ?? s.placementConstraints ?? [];
        const strategies = input.placementStrategy ?? s.placementStrategy ?? [];
        if (placementTd) checkPlacement(s.serviceName!, placementTd, strategy, constraints, strategies);
        const taskDefinition = td?.taskDefinitionArn ?? s.taskDefinition;
        const network = nextTd
          ? awsvpcConfigurationFor(nextTd.networkMode, input.networkConfiguration ?? (nextTd.networkMode === 'awsvpc' ? s.networkConfiguration : undefined), {
              fargate: isFargateLaunch(launch ?? launchFieldsOf(s)),
            })
          : s.networkConfiguration?.awsvpcConfiguration;
        const networkChanged = JSON.stringify(network ?? null) !== JSON.stringify(s.networkConfiguration?.awsvpcConfiguration ?? null);
        // As ECS: changing the load balancers starts a new deployment.
        const lbChanged = input.loadBalancers !== undefined && JSON.stringify(loadBalancers ?? []) !== JSON.stringify(s.loadBalancers ?? []);
        const sc = input.serviceConnectConfiguration ? scNext : scNext ?? primaryServiceConnectDeployment(s);
        const scChanged = input.serviceConnectConfiguration !== undefined && JSON.stringify(scNext?.serviceConnectConfiguration ?? null) !== JSON.stringify(primaryServiceConnect(s) ?? null);
        if (sc && s.deploymentController?.type && s.deploymentController.type !== 'ECS') {
          throw invalidParameter(`serviceConnectConfiguration: Service Connect needs the ECS deployment controller, not ${s.deploymentController.type}.`);
        }
        // As ECS: adding, changing or removing the service registry starts a new deployment too.
        const srChanged = input.serviceRegistries !== undefined && JSON.stringify(serviceRegistries ?? []) !== JSON.stringify(s.serviceRegistries ?? []);
        // As ECS: a new launch (strategy, launch type, platform version) is rolled out by a new deployment.
        const nextLaunch = launch ?? launchFieldsOf(s);
        const launchChanged = launch !== undefined && JSON.stringify(launch) !== JSON.stringify(launchFieldsOf(s));
        const redeploy = taskDefinition !== s.taskDefinition || networkChanged || lbChanged || srChanged || scChanged || launchChanged || input.forceNewDeployment === true;
        // The registries taken out: the controller deregisters the service's tasks there.
        const dropped = (s.serviceRegistries ?? []).map((r) => r.registryArn!).filter((arn) => srChanged && !(serviceRegistries ?? []).some((r) => r.registryArn === arn));
        const former = [...new Set([...(s.berth.formerRegistries ?? []), ...dropped])].filter((arn) => !(serviceRegistries ?? s.serviceRegistries ?? []).some((r) => r.registryArn === arn));
        const deployments = (s.deployments ?? []).map((d) => {
          // (A service deployed with task sets has no deployments: this leaves it alone.)
          if (d.status !== 'PRIMARY') return d;
          return redeploy ? { ...d, status: 'ACTIVE', updatedAt: now / 1000 } : { ...d, desiredCount: desired, updatedAt: now / 1000 };
        });
        if (redeploy && taskDefinition) deployments.unshift({ ...withLaunch(newDeployment(newDeploymentId(), taskDefinition, desired, now, network), deploymentLaunch(nextLaunch)), ...(sc ?? {}) });
        return {
          ...withLaunch(s, nextLaunch),
          desiredCount: desired,
          ...(taskDefinition ? { taskDefinition } : {}),
          ...(input.loadBalancers !== undefined && loadBalancers ? { loadBalancers } : {}),
          ...(input.serviceRegistries !== undefined ? { serviceRegistries: serviceRegistries ?? [] } : {}),
          ...(s.taskSets ? { taskSets: rescaled(s.taskSets, desired, now) } : {}),
          ...(network ? { networkConfiguration: { awsvpcConfiguration: network } } : { networkConfiguration: undefined }),
          deploymentConfiguration: { ...deploymentConfigurationOf(limits), ...shiftConfigFields(shiftConfig) },
          deployments,
          placementConstraints: constraints,
          placementStrategy: strategies,
          ...(grace !== undefined ? { healthCheckGracePeriodSeconds: grace } : {}),
          ...(input.enableECSManagedTags !== undefined && input.enableECSManagedTags !== null ? { enableECSManagedTags: input.enableECSManagedTags } : {}),
          ...(input.propagateTags ? { propagateTags: input.propagateTags } : {}),
          // As in ECS, for the tasks started from now on (a forced new deployment replaces the running ones).
          ...(input.enableExecuteCommand !== undefined && input.enableExecuteCommand !== null ? { enableExecuteCommand: input.enableExecuteCommand } : {}),
          berth: {
            ...s.berth,
            steady: false,
            ...(former.length > 0 ? { formerRegistries: former } : {}),
            // The tasks deployed so far stay in (and leave) the target groups they were started for.
            ...(lbChanged
              ? { deploymentLoadBalancers: Object.fromEntries((s.deployments ?? []).map((d) => [d.id!, s.berth.deploymentLoadBalancers?.[d.id!] ?? s.loadBalancers ?? []])) }
              : {}),
          },
        };
      }, async (tx, before, after) => {
        markProvidersInUse(tx, cluster, after.capacityProviderStrategy, now);
        const started = after.deployments?.find((d) => d.status === 'PRIMARY');
        if (started && !before.deployments?.some((d) => d.id === started.id)) await recordServiceDeployment(tx, env.scope, before, after, revisionTd, now);
      });
      return { service: describedService(record, false) };
    },

    async DeleteService(input: DeleteServiceRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const name = serviceNameOf(env, cluster, input.service!);
      const now = env.now();
      const record = await transact(env.store, async (tx) => {
        const r = name ? await tx.getRecord(parseServiceRecord, keys.service(cluster, name)) : undefined;
        if (!r) throw serviceNotFound();
        if (r.status !== 'ACTIVE') throw serviceNotActive();
        if (r.schedulingStrategy !== 'DAEMON' && (r.desiredCount ?? 0) > 0 && !input.force) {
          throw invalidParameter('The service cannot be stopped while it is scaled above 0.');
        }
        const next: ServiceRecord = {
          ...r,
          status: 'DRAINING',
          desiredCount: 0,
          deployments: (r.deployments ?? []).map((d) => (d.status === 'PRIMARY' ? { ...d, desiredCount: 0, updatedAt: now / 1000 } : d)),
          // Task sets drain with the service.
          ...(r.taskSets ? { taskSets: rescaled(r.taskSets.map((t) => ({ ...t, status: 'DRAINING', updatedAt: now / 1000 })), 0, now) } : {}),
          berth: { ...r.berth, steady: false },
        };
        tx.putJson(keys.service(cluster, r.serviceName!), next);
        await settleServiceDeployments(tx, r, 'The service was deleted.', now);
        return next;
      });
      return { service: describedService(record, false) };
    },

    async DescribeServices(input: DescribeServicesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const refs = input.services ?? [];
      if (refs.length === 0) throw invalidParameter(ecsMessage('servicesEmpty'));
      if (refs.length > 10) throw invalidParameter('services must list between 1 and 10 services.');
      const withTags = input.include?.includes('TAGS') ?? false;
      const services: Wire<Service>[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const name = serviceNameOf(env, cluster, ref);
        const record = name ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, name)) : undefined;
        if (record) services.push(describedService(record, withTags));
        else failures.push({ arn: missingArn(env.scope, 'service', ref), reason: ecsMessage('missing') });
      }
      return { services, failures };
    },

    ListServicesByNamespace: (input: ListServicesByNamespaceRequest) => listServicesByNamespace(env, input),

    async ListServices(input: ListServicesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      if (input.resourceManagementType !== undefined && input.resourceManagementType !== 'CUSTOMER') {
        return { serviceArns: [] };
      }
      const page = await pageOf(env.store, keys.servicesOf(cluster), input, { defaultSize: 10, maxSize: 100 }, (e) => {
        const s = parseServiceRecord(e.value, e.key);
        const keep =
          s.status !== 'INACTIVE' &&
          (input.launchType === undefined || s.launchType === input.launchType) &&
          (input.schedulingStrategy === undefined || s.schedulingStrategy === input.schedulingStrategy);
        return keep ? s.serviceArn! : undefined;
      });
      return { serviceArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
  };
}
