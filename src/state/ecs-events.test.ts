import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { emitContainerInstanceStateChange, emitServiceEvents, emitTaskStateChange } from './ecs-events.js';
import { eventsKeys } from './events-keys.js';
import { parseQueuedBatchRecord } from './records/events.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const TASK_ARN = 'arn:aws:ecs:eu-west-1:111122223333:task/prod/0123456789abcdef';

async function queued(store: MemoryStore) {
  const { entries } = await store.range(eventsKeys.queue());
  return entries.flatMap((e) => parseQueuedBatchRecord(e.value, e.key).events);
}

describe('berth’s ECS events', () => {
  it('a task change is one "ECS Task State Change" in the same commit, in ECS’s shape; one commit holds one queue record', async () => {
    const store = new MemoryStore();
    await transact(store, async (tx) => {
      emitTaskStateChange(
        tx,
        {
          taskArn: TASK_ARN,
          clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          group: 'family:worker',
          createdAt: NOW / 1000 - 60,
          stoppedAt: NOW / 1000,
          containers: [{ name: 'app', exitCode: 3, lastStatus: 'STOPPED' }],
          tags: [{ key: 'secret', value: 'no' }],
          version: 4,
        },
        NOW,
      );
      emitContainerInstanceStateChange(tx, { containerInstanceArn: 'arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/abc', status: 'DRAINING', registeredAt: NOW / 1000 }, NOW);
    });
    expect((await store.range(eventsKeys.queue())).entries).toHaveLength(1);
    const [task, instance] = await queued(store);
    expect(task).toEqual({
      bus: 'default',
      event: {
        version: '0',
        id: expect.any(String),
        'detail-type': 'ECS Task State Change',
        source: 'aws.ecs',
        account: '111122223333',
        time: '2026-05-01T12:00:00Z',
        region: 'eu-west-1',
        resources: [TASK_ARN],
        detail: {
          taskArn: TASK_ARN,
          clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          group: 'family:worker',
          createdAt: '2026-05-01T11:59:00.000Z',
          stoppedAt: '2026-05-01T12:00:00.000Z',
          containers: [{ name: 'app', exitCode: 3, lastStatus: 'STOPPED' }],
          version: 4,
          updatedAt: '2026-05-01T12:00:00.000Z',
        },
      },
    });
    expect(instance!.event).toMatchObject({
      'detail-type': 'ECS Container Instance State Change',
      resources: ['arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/abc'],
      detail: { status: 'DRAINING', clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod', registeredAt: '2026-05-01T12:00:00.000Z' },
    });
  });

  it('service event messages become Service Action and Deployment State Change events; others none', async () => {
    const store = new MemoryStore();
    const service = { serviceArn: 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web', clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod' };
    await transact(store, async (tx) =>
      emitServiceEvents(
        tx,
        service,
        [
          '(service web) has started 1 tasks: (task 1).',
          '(service web) (deployment ecs-svc/42) deployment completed.',
          '(service web) has reached a steady state.',
          '(service web) was unable to place a task because no container instance met all of its requirements. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
          '(service web) (deployment ecs-svc/43) deployment failed: tasks failed to start.',
        ],
        NOW,
      ),
    );
    const got = (await queued(store)).map((q) => [q.event['detail-type'], (q.event.detail as { eventName: string; deploymentId?: string }).eventName, (q.event.detail as { deploymentId?: string }).deploymentId]);
    expect(got).toEqual([
      ['ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/42'],
      ['ECS Service Action', 'SERVICE_STEADY_STATE', undefined],
      ['ECS Service Action', 'SERVICE_TASK_PLACEMENT_FAILURE', undefined],
      ['ECS Deployment State Change', 'SERVICE_DEPLOYMENT_FAILED', 'ecs-svc/43'],
    ]);
  });
});
