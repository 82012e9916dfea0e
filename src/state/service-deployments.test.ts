import type { Deployment } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { Wire } from '../model/wire.js';
import type { ServiceDeploymentRecord } from './records/service-deployments.js';
import type { ServiceRecord } from './records/services.js';
import { outcomeOf } from './service-deployments.js';

const A = 'ecs-svc/1111111111111111111';
const B = 'ecs-svc/2222222222222222222';
const revisionPrefix = 'arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/';

const record = (id: string, extra: Partial<ServiceDeploymentRecord> = {}): ServiceDeploymentRecord => ({
  cluster: 'c',
  serviceName: 'web',
  deploymentId: id,
  serviceDeploymentArn: `arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/${id.slice(8)}`,
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/c/web',
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
  createdAt: 100,
  sources: [],
  deploymentConfiguration: {},
  revision: { serviceRevisionArn: `${revisionPrefix}${id.slice(8)}` },
  ...extra,
});

const service = (...deployments: Wire<Deployment>[]): ServiceRecord => ({ serviceName: 'web', serviceArn: 'x', deployments, berth: { cluster: 'c' } });
const d = (id: string, status: string, rolloutState: Deployment['rolloutState'], updatedAt = 200, reason?: string): Wire<Deployment> => ({
  id,
  status,
  rolloutState,
  updatedAt,
  ...(reason ? { rolloutStateReason: reason } : {}),
});

describe('outcomeOf: a service deployment read from its service', () => {
  it.each([
    ['PRIMARY in progress', record(A), service(d(A, 'PRIMARY', 'IN_PROGRESS')), { status: 'IN_PROGRESS', updatedAt: 200 }],
    ['PRIMARY completed', record(A), service(d(A, 'PRIMARY', 'COMPLETED', 300)), { status: 'SUCCESSFUL', finishedAt: 300 }],
    [
      'PRIMARY failed (breaker without rollback)',
      record(A),
      service(d(A, 'PRIMARY', 'FAILED', 300, 'ECS deployment circuit breaker: tasks failed to start.')),
      { status: 'STOPPED', stoppedAt: 300, statusReason: 'ECS deployment circuit breaker: tasks failed to start.' },
    ],
    [
      'rolled back, restored deployment still rolling',
      record(B),
      service(d(A, 'PRIMARY', 'IN_PROGRESS', 300), d(B, 'ACTIVE', 'FAILED', 250, 'ECS deployment circuit breaker: tasks failed to start.')),
      { status: 'ROLLBACK_IN_PROGRESS', rollback: { serviceRevisionArn: `${revisionPrefix}1111111111111111111`, startedAt: 250, reason: 'ECS deployment circuit breaker: tasks failed to start.' } },
    ],
    [
      'rolled back and drained',
      record(B, { stop: { at: 240, type: 'ROLLBACK', to: A } }),
      service(d(A, 'PRIMARY', 'COMPLETED', 400)),
      { status: 'ROLLBACK_SUCCESSFUL', finishedAt: 400, rollback: { startedAt: 240, serviceRevisionArn: `${revisionPrefix}1111111111111111111` } },
    ],
    ['kept outcome wins', record(A, { final: { status: 'SUCCESSFUL', updatedAt: 150, finishedAt: 150 } }), service(d(B, 'PRIMARY', 'IN_PROGRESS')), { status: 'SUCCESSFUL', finishedAt: 150 }],
    ['service forgotten', record(A), undefined, { status: 'STOPPED', statusReason: 'The service was deleted.' }],
  ] as const)('%s', (_label, r, s, expected) => {
    expect(outcomeOf(r, s)).toMatchObject(expected);
  });
});
