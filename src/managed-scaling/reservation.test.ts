import { describe, expect, it } from 'vitest';
import { capacityForTarget, capacityProviderReservation, instancesForWaitingTasks, type ReservationInput } from './reservation.js';

const small = { cpuUnits: 1024, memoryMib: 2048 };
const base: ReservationInput = { running: 0, busy: 0, waiting: [], instance: small, minimumScalingStepSize: 1, maximumScalingStepSize: 10_000 };
const tasks = (n: number, cpu: number, memory: number) => Array.from({ length: n }, () => ({ cpu, memory }));

describe('CapacityProviderReservation (ECS cluster auto scaling)', () => {
  // The documented cases: M = N → 100; idle instances with nothing waiting → under 100; tasks waiting → over 100;
  // N = 0 with nothing to run → 100; N = 0 with tasks waiting → 200.
  it.each([
    { case: 'every running instance runs tasks, nothing waits (M = N)', running: 4, busy: 4, waiting: [], value: 100, needed: 4 },
    { case: 'two of four instances idle, nothing waits', running: 4, busy: 2, waiting: [], value: 50, needed: 2 },
    { case: 'every instance idle', running: 3, busy: 0, waiting: [], value: 0, needed: 0 },
    { case: 'no instances and no tasks', running: 0, busy: 0, waiting: [], value: 100, needed: 0 },
    { case: 'no instances, one task waiting', running: 0, busy: 0, waiting: tasks(1, 256, 512), value: 200, needed: 1 },
    { case: 'two busy instances, tasks for one more waiting', running: 2, busy: 2, waiting: tasks(4, 256, 512), value: 150, needed: 3 },
    { case: 'one instance, tasks for three more waiting', running: 1, busy: 1, waiting: tasks(6, 512, 512), value: 400, needed: 4 },
  ])('$case: $value', ({ running, busy, waiting, value, needed }) => {
    const r = capacityProviderReservation({ ...base, running, busy, waiting });
    expect(r.value).toBeCloseTo(value, 6);
    expect(r.needed).toBe(needed);
  });

  it('holds the new instances within the minimum and maximum scaling step sizes', () => {
    expect(capacityProviderReservation({ ...base, running: 2, busy: 2, waiting: tasks(1, 256, 256), minimumScalingStepSize: 3 }).needed).toBe(5);
    expect(capacityProviderReservation({ ...base, running: 2, busy: 2, waiting: tasks(40, 1024, 256), maximumScalingStepSize: 5 }).needed).toBe(7);
    expect(capacityProviderReservation({ ...base, running: 0, busy: 0, waiting: tasks(1, 256, 256), minimumScalingStepSize: 2 })).toEqual({ value: 200, needed: 2, running: 0 });
  });
});

describe('instances the waiting tasks need (lower bound by binpacking over the instance size)', () => {
  it('packs identical tasks by the tighter of CPU and memory', () => {
    expect(instancesForWaitingTasks(tasks(4, 256, 512), small)).toBe(1); // 4 by CPU, 4 by memory
    expect(instancesForWaitingTasks(tasks(5, 256, 512), small)).toBe(2);
    expect(instancesForWaitingTasks(tasks(3, 128, 1024), small)).toBe(2); // memory: 2 per instance
  });

  it('takes the largest group of identical tasks, since different groups may share instances', () => {
    expect(instancesForWaitingTasks([...tasks(4, 512, 512), ...tasks(1, 128, 128)], small)).toBe(2);
  });

  it('ignores tasks no instance of the size could hold, and tasks that reserve nothing need one instance', () => {
    expect(instancesForWaitingTasks(tasks(2, 4096, 512), small)).toBe(0);
    expect(instancesForWaitingTasks(tasks(3, 0, 0), small)).toBe(1);
    expect(instancesForWaitingTasks([], small)).toBe(0);
  });
});

describe('the capacity that brings CPR to the target', () => {
  it.each([
    { needed: 4, target: 100, capacity: 4 },
    { needed: 4, target: 50, capacity: 8 },
    { needed: 10, target: 90, capacity: 12 },
    { needed: 9, target: 90, capacity: 10 },
    { needed: 0, target: 75, capacity: 0 },
  ])('M = $needed at $target % → $capacity instances', ({ needed, target, capacity }) => {
    expect(capacityForTarget(needed, target)).toBe(capacity);
  });
});
