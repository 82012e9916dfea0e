import { describe, expect, it } from 'vitest';
import type { AcsTask } from '../../model/acs.js';
import { fargateCpuQuota, fargateTaskCgroup } from './container-spec.js';

const task = (launchType: string, cpu?: number) => ({ launchType, ...(cpu !== undefined ? { cpu } : {}) }) as AcsTask;

describe('fargateCpuQuota', () => {
  it("holds a Fargate task to its vCPUs per 100 ms period, and leaves EC2 tasks and tasks without a size alone", () => {
    expect(fargateCpuQuota(task('FARGATE', 0.25))).toBe(25_000);
    expect(fargateCpuQuota(task('FARGATE', 2))).toBe(200_000);
    expect(fargateCpuQuota(task('EC2', 0.25))).toBeUndefined();
    expect(fargateCpuQuota(task('FARGATE'))).toBeUndefined();
  });
});

describe('fargateTaskCgroup', () => {
  it("holds a Fargate task's containers together in one cgroup named after the task, with its vCPUs and memory; none for EC2", () => {
    const fargate = { ...task('FARGATE', 0.5), arn: 'arn:aws:ecs:us-east-1:000000000000:task/c/abc123', memory: 1024 } as AcsTask;
    expect(fargateTaskCgroup(fargate)).toEqual({ name: 'abc123', cpuQuotaMicros: 50_000, memoryLimitBytes: 1024 * 1024 * 1024 });
    expect(fargateTaskCgroup({ ...fargate, launchType: 'EC2' })).toBeUndefined();
  });
});
