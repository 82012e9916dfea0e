import type { Logger } from 'pino';
import { startInstanceMonitor, type InstanceMonitor } from '../controllers/instance-monitor.js';
import { startCapacityWaits } from '../controllers/capacity-waits.js';
import type { Duties, LeaderTerm } from '../controllers/leadership.js';
import { startServiceController, type ServiceController } from '../controllers/service-controller.js';
import { startStoppedTaskReaper } from '../controllers/stopped-task-reaper.js';
import { startTaskDefinitionReaper } from '../controllers/task-definition-reaper.js';
import type { ArnScope } from '../model/arn.js';
import { startLogSweep } from '../logs/retention-sweep.js';
import type { MetricStore } from '../metrics/metric-store.js';
import { startMetricSweep } from '../metrics/metric-sweep.js';
import { startHistoryRetention } from '../autoscaling/history-retention.js';
import { startUtilizationCombiner, type CombineOptions } from '../metrics/ecs-figures-exchange.js';
import { startInsightsPublisher } from '../metrics/container-insights.js';
import { startAlarmEvaluator } from '../metrics/alarms/alarm-evaluator.js';
import type { AutoScalingEnv } from '../autoscaling/env.js';
import { startEventDispatcher, type DeadLetterSender, type RunTaskForRule, type TargetCaller } from '../events/dispatcher.js';
import type { EventsEnv } from '../events/env.js';
import { executePolicy, startScheduledScaling } from '../autoscaling/scaling-engine.js';
import type { Registry } from '../registry/registry.js';
import { startSecretPurge } from '../secrets/secret-deletion.js';
import { startOperationWorker } from '../cloudmap/operation-worker.js';
import { startTargetDrain } from '../elb/target-health.js';
import { startStorageDuty } from '../efs/storage-duty.js';
import type { ClusterCache } from '../state/cluster-cache.js';
import { startGroupController, type GroupController } from '../hostgroups/group-controller.js';
import type { Provisioners } from '../hostgroups/provisioners/provisioner.js';
import { startManagedScaling, type ManagedScalingController } from '../managed-scaling/managed-scaling-controller.js';
import { managedProviders } from '../managed-scaling/providers.js';

/** What the leader's duties need besides the term (settings compiled once by the server). */
export interface LeaderDutySettings {
  readonly scope: ArnScope;
  readonly log: Logger;
  readonly registry: Registry;
  /** The process's informer-fed view of instances and tasks (read through the plain store; writes go through the term's). */
  readonly cache: ClusterCache;
  /** The directory of log chunk files (the shared one with several replicas). */
  readonly logsDir: string;
  /** CloudWatch metrics: the leader deletes what has aged out of each resolution. */
  readonly metrics?: MetricStore;
  readonly metricSweepMs?: number;
  /** AWS/ECS utilization: the leader writes each minute's datapoints from every replica's figures (with `metrics`). */
  readonly utilization?: Pick<CombineOptions, 'capacity' | 'now' | 'periodS' | 'graceMs'>;
  /** Application Auto Scaling: the leader evaluates alarms (with the metrics), runs the policies they invoke and the scheduled actions. */
  readonly autoScaling?: AutoScalingEnv;
  readonly alarmEvaluationMs?: number;
  /** EventBridge: the leader routes queued events, fires scheduled rules and runs their ECS targets. */
  readonly events?: { readonly env: EventsEnv; readonly runTask: RunTaskForRule; readonly callApi?: TargetCaller; readonly deadLetter?: DeadLetterSender; readonly intervalMs?: number };
  readonly instanceLostAfterMs?: number;
  /** Tasks one service pass may launch (sized to the store's operations per transaction). */
  readonly maxLaunchesPerPass?: number;
  readonly serviceResyncMs?: number;
  readonly stoppedTaskRetentionMs?: number;
  readonly logSweepMs?: number;
  /** The clock of deadlines set through the API (secrets' recovery windows); default Date.now. */
  readonly now?: () => number;
  readonly secretPurgeMs?: number;
  /** Between passes removing targets whose deregistration delay is over (default 1 s). */
  readonly targetDrainMs?: number;
  /** Between passes placing tasks that wait for capacity (default 1 s), and how long one waits (default 30 min). */
  readonly capacityWaitMs?: { readonly intervalMs?: number; readonly waitMs?: number };
  /** Host groups: the controller launching and terminating their hosts (hostgroups/group-controller.ts). */
  readonly hostGroups?: {
    readonly provisioners: Provisioners;
    readonly backendHost: string;
    readonly registrationTimeoutMs?: number;
    readonly intervalMs?: number;
  };
  /** Capacity providers' managed scaling, termination protection and draining (managed-scaling/), with host groups. */
  readonly managedScaling?: { readonly intervalMs?: number; readonly scaleInAfterMs?: number; readonly drainTimeoutS?: number };
}

/** The duties of one term, with handles tests look at. */
export interface LeaderDuties extends Duties {
  readonly serviceController: ServiceController;
  readonly instanceMonitor: InstanceMonitor;
  readonly hostGroups?: GroupController;
  readonly managedScaling?: ManagedScalingController;
}

/**
 * Everything that must run on exactly one replica, started for a leader's term: every write goes through the
 * term's fenced store, so once deposed none of them can write even before they are stopped. A new controller or
 * periodic job joins here.
 */
export function startLeaderDuties(term: LeaderTerm, settings: LeaderDutySettings): LeaderDuties {
  const { store } = term;
  const log = settings.log;
  // Every duty started is stopped with the term: each start below goes through `duty`, so none can be forgotten.
  const running: { stop(): unknown }[] = [];
  const duty = <D extends { stop(): unknown }>(started: D): D => {
    running.push(started);
    return started;
  };
  const instanceMonitor = duty(startInstanceMonitor({ store, instances: settings.cache.instances, log: log.child({ controller: 'instance-monitor' }) }));
  const serviceController = duty(startServiceController({
    store,
    cache: settings.cache,
    scope: settings.scope,
    log: log.child({ controller: 'services' }),
    ...(settings.instanceLostAfterMs !== undefined ? { instanceLostAfterMs: settings.instanceLostAfterMs } : {}),
    ...(settings.serviceResyncMs !== undefined ? { resyncMs: settings.serviceResyncMs } : {}),
    ...(settings.maxLaunchesPerPass !== undefined ? { maxLaunchesPerPass: settings.maxLaunchesPerPass } : {}),
  }));
  duty(startTaskDefinitionReaper({ store, tasks: settings.cache.tasks, log: log.child({ controller: 'task-definition-reaper' }) }));
  duty(startStoppedTaskReaper({
    store,
    tasks: settings.cache.tasks,
    log: log.child({ controller: 'stopped-task-reaper' }),
    ...(settings.stoppedTaskRetentionMs !== undefined ? { retentionMs: settings.stoppedTaskRetentionMs } : {}),
  }));
  settings.registry.start(store);
  duty(settings.registry);
  duty(startLogSweep({
    store,
    dir: settings.logsDir,
    now: Date.now,
    log: log.child({ component: 'log-sweep' }),
    ...(settings.logSweepMs !== undefined ? { intervalMs: settings.logSweepMs } : {}),
  }));
  duty(startSecretPurge({
    store,
    log: log.child({ component: 'secret-purge' }),
    ...(settings.now ? { now: settings.now } : {}),
    ...(settings.secretPurgeMs !== undefined ? { intervalMs: settings.secretPurgeMs } : {}),
  }));
  duty(startTargetDrain({
    store,
    log: log.child({ component: 'target-drain' }),
    ...(settings.now ? { now: settings.now } : {}),
    ...(settings.targetDrainMs !== undefined ? { intervalMs: settings.targetDrainMs } : {}),
  }));
  // EFS: file systems' volumes placed on storage hosts, marked available once started (docs/storage.md).
  duty(startStorageDuty({ store, log: log.child({ component: 'storage' }), ...(settings.now ? { now: settings.now } : {}) }));
  // Cloud Map's asynchronous namespace operations, and the pruning of finished ones.
  duty(startOperationWorker({ store, log: log.child({ component: 'cloud-map-operations' }), ...(settings.now ? { now: settings.now } : {}) }));
  if (settings.metrics) duty(startMetricSweep({
    store: settings.metrics,
    log: log.child({ component: 'metric-sweep' }),
    ...(settings.metricSweepMs !== undefined ? { intervalMs: settings.metricSweepMs } : {}),
  }));
  if (settings.metrics && settings.utilization) duty(startUtilizationCombiner({ ...settings.utilization, store, write: (samples) => settings.metrics!.put(samples), log: log.child({ component: 'ecs-utilization' }) }));
  // ECS/ContainerInsights counts of the clusters that turn it on, on the utilization metrics' period.
  if (settings.metrics && settings.utilization) duty(startInsightsPublisher({
    store,
    write: (samples) => settings.metrics!.put(samples),
    now: settings.utilization.now,
    periodS: settings.utilization.periodS,
    log: log.child({ component: 'container-insights' }),
  }));
  // Alarms read the metrics and write through the term's fenced store; their Auto Scaling actions run the policies.
  const scaling = settings.autoScaling ? { ...settings.autoScaling, store } : undefined;
  if (settings.metrics && scaling) duty(startAlarmEvaluator({
    records: store,
    metrics: { store: settings.metrics, now: scaling.now },
    log: log.child({ component: 'alarms' }),
    now: scaling.now,
    invoke: async (action, alarm, repeat) =>
      action.includes(':autoscaling:') && action.includes(':scalingPolicy:')
        ? executePolicy(scaling, action, alarm, repeat)
        : { ok: false, message: `berth does not run ${action.split(':')[2] ?? 'these'} actions.` },
    ...(settings.alarmEvaluationMs !== undefined ? { intervalMs: settings.alarmEvaluationMs } : {}),
  }));
  const hostGroups = settings.hostGroups
    ? duty(startGroupController({
        store,
        log: log.child({ controller: 'host-groups' }),
        provisioners: settings.hostGroups.provisioners,
        containerInstances: () => [...settings.cache.instances.cache.values()].map((c) => c.value),
        backendHost: settings.hostGroups.backendHost,
        ...(settings.now ? { now: settings.now } : {}),
        ...(settings.hostGroups.registrationTimeoutMs !== undefined ? { registrationTimeoutMs: settings.hostGroups.registrationTimeoutMs } : {}),
        ...(settings.hostGroups.intervalMs !== undefined ? { intervalMs: settings.hostGroups.intervalMs } : {}),
      }))
    : undefined;
  if (settings.events) duty(startEventDispatcher({
    store,
    scope: settings.events.env.scope,
    now: settings.events.env.now,
    log: log.child({ component: 'events' }),
    runTask: settings.events.runTask,
    ...(settings.events.callApi ? { callApi: settings.events.callApi } : {}),
    ...(settings.events.deadLetter ? { deadLetter: settings.events.deadLetter } : {}),
    ...(settings.events.intervalMs !== undefined ? { intervalMs: settings.events.intervalMs } : {}),
  }));
  const ms = settings.managedScaling;
  const managedScaling =
    settings.hostGroups && ms
      ? duty(startManagedScaling({
          store,
          log: log.child({ controller: 'managed-scaling' }),
          cache: settings.cache,
          providers: () => managedProviders(store),
          ...(settings.metrics ? { publish: (samples) => settings.metrics!.put(samples) } : {}),
          ...(settings.now ? { now: settings.now } : {}),
          ...(ms.intervalMs !== undefined ? { intervalMs: ms.intervalMs } : {}),
          ...(ms.scaleInAfterMs !== undefined ? { scaleInAfterMs: ms.scaleInAfterMs } : {}),
          ...(ms.drainTimeoutS !== undefined ? { drainTimeoutS: ms.drainTimeoutS } : {}),
        }))
      : undefined;
  duty(startCapacityWaits({
    store,
    cache: settings.cache,
    scope: settings.scope,
    log: log.child({ controller: 'capacity-waits' }),
    ...(settings.now ? { now: settings.now } : {}),
    ...(settings.capacityWaitMs?.intervalMs !== undefined ? { intervalMs: settings.capacityWaitMs.intervalMs } : {}),
    ...(settings.capacityWaitMs?.waitMs !== undefined ? { waitMs: settings.capacityWaitMs.waitMs } : {}),
  }));
  if (scaling) duty(startScheduledScaling(scaling, log.child({ component: 'scheduled-scaling' })));
  // Alarm history (30 days) and scaling activities (six weeks) pruned as AWS does, through the term's fenced store.
  if (scaling) duty(startHistoryRetention({ store, now: scaling.now, log: log.child({ component: 'history-retention' }) }));
  return {
    serviceController,
    instanceMonitor,
    ...(hostGroups ? { hostGroups } : {}),
    ...(managedScaling ? { managedScaling } : {}),
    async stop() {
      await Promise.all(running.map((d) => d.stop()));
    },
  };
}
