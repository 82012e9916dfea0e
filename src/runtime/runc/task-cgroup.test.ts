import { describe, expect, it } from 'vitest';
import { taskCgroupOf, taskCgroupSettings } from './task-cgroup.js';

describe('task-level cgroup', () => {
  it("sets the task's memory (and memory+swap to the same: no swap) and its CFS quota per 100 ms", () => {
    expect(taskCgroupSettings({ name: 't', memoryLimitBytes: 512 << 20, cpuQuotaMicros: 25_000 }, true)).toEqual([
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(512 << 20) },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(512 << 20) },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '25000' },
    ]);
    expect(taskCgroupSettings({ name: 't', memoryLimitBytes: 1 << 20 }, false)).toEqual([{ controller: 'memory', file: 'memory.limit_in_bytes', value: String(1 << 20) }]);
    expect(taskCgroupSettings({ name: 't', cpuQuotaMicros: 10 }, false).at(-1)?.value).toBe('1000');
  });

  it('finds the task cgroup of a container cgroup one level below the parent, and none otherwise', () => {
    expect(taskCgroupOf('/berth/task1/task1-app', '/berth')).toBe('/berth/task1');
    expect(taskCgroupOf('/berth/task1-app', '/berth')).toBeUndefined();
    expect(taskCgroupOf('/other/task1/task1-app', '/berth')).toBeUndefined();
  });
});
