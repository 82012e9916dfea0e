import type { Service } from '@aws-sdk/client-ecs';
import { serviceGroup } from '../../model/service/service.js';
import type { Wire } from '../../model/wire.js';
import {
  chooseTasksToStop,
  DEFAULT_SERVICE_PLACEMENT_STRATEGY,
  place,
  type InstanceSnapshot,
  type PlacementRequest,
  type PlacementStrategy,
} from '../../scheduler/index.js';
import { constraintsOf, strategiesOf as strategiesOfRequest } from '../../state/placement-request.js';
import type { TaskDefinitionFacts, TaskView } from './state.js';

/** The strategies a service places and scales in with: its own, the default spread across zones, none for DAEMON. */
export function strategiesOf(service: Wire<Service>): readonly PlacementStrategy[] {
  if (service.schedulingStrategy === 'DAEMON') return [];
  const own = strategiesOfRequest(service.placementStrategy);
  return own.length > 0 ? own : DEFAULT_SERVICE_PLACEMENT_STRATEGY;
}

/** A placement request for `count` of the service's tasks: the task definition's and the service's constraints. */
export function requestFor(service: Wire<Service>, facts: TaskDefinitionFacts, count: number): PlacementRequest {
  return {
    count,
    needs: facts.needs,
    group: serviceGroup(service.serviceName!),
    constraints: [...facts.constraints, ...constraintsOf(service.placementConstraints)],
    strategies: strategiesOf(service),
    requiredAttributes: facts.requiredAttributes,
  };
}

/**
 * Whether an instance meets the service's constraints and required attributes — not its resources, nor its
 * agent's connection, nor the service's own tasks (which DAEMON placement is about).
 */
export function meetsConstraints(instance: InstanceSnapshot, service: Wire<Service>, facts: TaskDefinitionFacts, seed: number): boolean {
  const group = serviceGroup(service.serviceName!);
  const bare: InstanceSnapshot = { ...instance, agentConnected: true, tasks: instance.tasks.filter((t) => t.group !== group) };
  const request = { ...requestFor(service, facts, 1), needs: { cpu: 0, memory: 0, ports: [], portsUdp: [] } };
  return place([bare], request, seed).placements.length === 1;
}

/** `count` of `candidates` to stop, in the order the service's strategies choose (tasks on leaving instances first). */
export function chooseStops(
  instances: readonly InstanceSnapshot[],
  candidates: readonly TaskView[],
  count: number,
  strategies: readonly PlacementStrategy[],
  seed: number,
): TaskView[] {
  if (count <= 0 || candidates.length === 0) return [];
  const byId = new Map(candidates.map((v) => [v.id, v]));
  const chosen = chooseTasksToStop(
    instances,
    candidates.map((v) => ({ taskId: v.id, instanceId: v.instanceId ?? '', needs: v.record.needs })),
    count,
    strategies,
    seed,
  );
  return chosen.map((id) => byId.get(id)!);
}
