import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../state/records/tasks.js';
import { checkPublishedMetrics } from './published-metrics.js';

const arn = (cluster: string, id: string) => `arn:aws:ecs:us-east-1:000000000000:task/${cluster}/${id}`;
const record = (id: string, instanceId: string, lastStatus = 'RUNNING', serviceName?: string): TaskRecord => ({
  cluster: 'c1',
  id,
  instanceId,
  task: { taskArn: arn('c1', id), lastStatus },
  needs: { cpu: 256, memory: 128, ports: [], portsUdp: [] },
  ...(serviceName ? { serviceName } : {}),
});
const records = new Map([
  ['mine', record('mine', 'i-1', 'RUNNING', 'web')],
  ['theirs', record('theirs', 'i-2', 'RUNNING', 'web')],
  ['stopping', record('stopping', 'i-1', 'STOPPED', 'web')],
]);
const session = { cluster: 'c1', instanceId: 'i-1' };

describe('checkPublishedMetrics (the gateway refuses figures an agent may not give)', () => {
  it("takes its own running tasks' figures, with the reservation and service from the record", () => {
    const { accepted, refused } = checkPublishedMetrics({ timestamp: 0, taskMetrics: [{ taskArn: arn('c1', 'mine'), cpuUsed: 1000, memoryUsed: 3 }] }, session, (id) => records.get(id));
    expect(refused).toEqual([]);
    expect(accepted).toEqual([{ taskArn: arn('c1', 'mine'), serviceName: 'web', cpuUsed: 1000, memoryUsed: 3, cpuReserved: 256, memoryReserved: 128 }]);
  });

  it("refuses another instance's task, another cluster's, an unknown one, a stopped one and bad numbers", () => {
    const { accepted, refused } = checkPublishedMetrics(
      {
        timestamp: 0,
        taskMetrics: [
          { taskArn: arn('c1', 'theirs'), cpuUsed: 5000, memoryUsed: 1 },
          { taskArn: arn('c2', 'mine'), cpuUsed: 1, memoryUsed: 1 },
          { taskArn: arn('c1', 'nobody'), cpuUsed: 1, memoryUsed: 1 },
          { taskArn: arn('c1', 'stopping'), cpuUsed: 1, memoryUsed: 1 },
          { taskArn: arn('c1', 'mine'), cpuUsed: -1, memoryUsed: 1 },
          { taskArn: arn('c1', 'mine'), cpuUsed: Number.NaN, memoryUsed: 1 },
          { taskArn: arn('c1', 'mine'), cpuUsed: '7' as unknown as number, memoryUsed: 1 },
        ],
      },
      session,
      (id) => records.get(id),
    );
    expect(accepted).toEqual([]);
    expect(refused.map((r) => r.reason)).toEqual([
      'not a task of this container instance',
      'not a task of this container instance',
      'not a task of this container instance',
      'the task is STOPPED',
      'cpuUsed and memoryUsed must be numbers ≥ 0',
      'cpuUsed and memoryUsed must be numbers ≥ 0',
      'cpuUsed and memoryUsed must be numbers ≥ 0',
    ]);
  });

  it('refuses a message without a list', () => {
    expect(checkPublishedMetrics({ timestamp: 0 } as never, session, () => undefined).refused).toHaveLength(1);
  });
});
