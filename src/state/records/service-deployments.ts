import type { DeploymentConfiguration, ServiceDeploymentStatus, ServiceRevision } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';
import { recordParser } from './codec.js';

/**
 * One service deployment (ECS's ServiceDeployment): the roll-out of one berth deployment `ecs-svc/<digits>`
 * of a service, with the service revision it deployed. Written when CreateService or UpdateService starts
 * the deployment, in the same transaction; its status is read from the service record's `deployments`
 * while the deployment is there, and kept here (`final`) once it can no longer be read from them.
 */
export interface ServiceDeploymentRecord {
  readonly cluster: string;
  readonly serviceName: string;
  /** The berth deployment this service deployment rolled out (`ecs-svc/<19 digits>`). */
  readonly deploymentId: string;
  readonly serviceDeploymentArn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  /** Epoch seconds. */
  readonly createdAt: number;
  /** The deployments whose revisions ran when this one began (their ids), with their task counts then. */
  readonly sources: readonly SourceRevision[];
  readonly deploymentConfiguration: Wire<DeploymentConfiguration>;
  /** The service revision this deployment rolls out (never changes). */
  readonly revision: Wire<ServiceRevision>;
  /** The outcome, once the service's deployments no longer tell it (superseded, stopped). */
  readonly final?: Outcome;
  /** StopServiceDeployment asked for this deployment to be stopped (epoch seconds) and how. */
  readonly stop?: { readonly at: number; readonly type: 'ROLLBACK' | 'ABORT'; readonly to?: string };
}

export interface SourceRevision {
  readonly deploymentId: string;
  readonly revisionArn: string;
  readonly requestedTaskCount: number;
  readonly runningTaskCount: number;
  readonly pendingTaskCount: number;
}

/** Where a service deployment stands: ECS's status and the times and reasons that go with it. */
export interface Outcome {
  readonly status: ServiceDeploymentStatus;
  readonly statusReason?: string;
  readonly updatedAt: number;
  readonly finishedAt?: number;
  readonly stoppedAt?: number;
  readonly rollback?: { readonly reason: string; readonly startedAt: number; readonly serviceRevisionArn: string };
}

export const parseServiceDeploymentRecord = recordParser<ServiceDeploymentRecord>('service deployment', {
  cluster: 'string',
  serviceName: 'string',
  deploymentId: 'string',
  serviceDeploymentArn: 'string',
  createdAt: 'number',
  sources: 'array',
  revision: 'object',
  'revision.serviceRevisionArn': 'string',
});
