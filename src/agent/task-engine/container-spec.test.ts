import { describe, expect, it } from 'vitest';
import type { AcsTask } from '../../model/acs.js';
import { fargateCpuQuota } from './container-spec.js';

const task = (launchType: string, cpu?: number) => ({ launchType, ...(cpu !== undefined ? { cpu } : {}) }) as AcsTask;

describe('fargateCpuQuota', () => {
  it("holds a Fargate task to its vCPUs per 100 ms period, and leaves EC2 tasks and tasks without a size alone", () => {
    expect(fargateCpuQuota(task('FARGATE', 0.25))).toBe(25_000);
    expect(fargateCpuQuota(task('FARGATE', 2))).toBe(200_000);
    expect(fargateCpuQuota(task('EC2', 0.25))).toBeUndefined();
    expect(fargateCpuQuota(task('FARGATE'))).toBeUndefined();
  });
});
