import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SERVICE_EVENTS } from '../../model/service/events.js';
import { healthBounds } from '../../model/service/service.js';
import { instance } from '../../scheduler/testing/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { agentStep, deploy, live, pass, running, settle, TD1, TD2, world, type World } from './testing/world.js';

/**
 * Properties of the pure reconcile over random interleavings of controller passes and what agents do
 * (tasks starting, stopping, failing, turning unhealthy), desired-count changes, deployments and draining.
 */

/** Tasks that the agent side can move: starting ones, and ones asked to stop. */
const movable = (w: World) =>
  w.tasks.filter((t) => t.task.lastStatus !== 'STOPPED' && (t.task.lastStatus !== 'RUNNING' || t.task.desiredStatus === 'STOPPED'));
const occupying = (w: World) => w.tasks.filter((t) => t.task.lastStatus !== 'STOPPED');
const isHealthy = (t: TaskRecord) => t.task.desiredStatus === 'RUNNING' && t.task.lastStatus === 'RUNNING' && t.task.healthStatus !== 'UNHEALTHY';

const limitsArb = fc.record({
  desired: fc.integer({ min: 1, max: 8 }),
  min: fc.constantFrom(0, 25, 50, 75, 100),
  max: fc.constantFrom(100, 125, 150, 200, 300),
});

describe('a rolling deployment', () => {
  it('keeps the RUNNING count within [floor, ceiling] at every step, whatever the interleaving, and completes', () => {
    fc.assert(
      fc.property(
        limitsArb,
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 150 }),
        fc.nat(),
        ({ desired, min, max }, steps, seed) => {
          const w = world({ desired, limits: { minimumHealthyPercent: min, maximumPercent: max } });
          w.seed = seed;
          settle(w);
          const { floor, ceiling } = healthBounds(desired, { minimumHealthyPercent: min, maximumPercent: max });
          const check = () => {
            const n = running(w).length;
            if (n < floor || n > ceiling) throw new Error(`RUNNING ${n} outside [${floor}, ${ceiling}]`);
          };
          const id = deploy(w, TD2);
          for (const [isPass, pick] of steps) {
            if (isPass) pass(w);
            else {
              const candidates = movable(w);
              if (candidates.length) agentStep(w, candidates[pick % candidates.length]!);
            }
            check();
          }
          // From here on everything moves, one task at a time: it must finish.
          const stuck = floor === desired && ceiling === desired;
          for (let round = 0; round < 200; round++) {
            const plan = pass(w);
            check();
            const moving = movable(w);
            for (const t of moving) {
              agentStep(w, t);
              check();
            }
            if (plan.launches.length === 0 && plan.stops.length === 0 && moving.length === 0) break;
          }
          if (!stuck) {
            expect(live(w).map((t) => t.task.startedBy)).toEqual(Array(desired).fill(id));
            expect(w.record.deployments!.map((d) => [d.id, d.rolloutState])).toEqual([[id, 'COMPLETED']]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

type Op =
  | { kind: 'pass' }
  | { kind: 'agent'; pick: number }
  | { kind: 'crash'; pick: number }
  | { kind: 'sick'; pick: number }
  | { kind: 'desired'; value: number }
  | { kind: 'deploy' }
  | { kind: 'drain'; pick: number }
  | { kind: 'time' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'pass' as const }) },
  { weight: 6, arbitrary: fc.nat().map((pick) => ({ kind: 'agent' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'crash' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'sick' as const, pick })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }).map((value) => ({ kind: 'desired' as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'deploy' as const }) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'drain' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'time' as const }) },
);

describe('every pass, under failures, health changes, scaling, deployments and draining', () => {
  it('starts nothing beyond the ceiling and stops no healthy task below the floor; calm again, it converges', () => {
    fc.assert(
      fc.property(limitsArb, fc.array(opArb, { maxLength: 120 }), fc.nat(), ({ desired, min, max }, ops, seed) => {
        const w = world({ desired, limits: { minimumHealthyPercent: min, maximumPercent: max }, instances: [instance('i1'), instance('i2'), instance('i3')] });
        w.seed = seed;
        const limits = { minimumHealthyPercent: min, maximumPercent: max };
        let tds = [TD1, TD2];
        for (const op of ops) {
          switch (op.kind) {
            case 'pass': {
              const bounds = healthBounds(w.record.desiredCount!, limits);
              const occupiedBefore = occupying(w).length;
              const healthyBefore = w.tasks.filter(isHealthy);
              const failed = w.record.deployments!.find((d) => d.status === 'PRIMARY')!.rolloutState === 'FAILED';
              const plan = pass(w);
              if (plan.launches.length > 0) {
                expect(occupiedBefore + plan.launches.length).toBeLessThanOrEqual(bounds.ceiling);
                expect(failed).toBe(false);
              }
              const healthyStopped = healthyBefore.filter((t) => plan.stops.some((s) => s.taskId === t.id)).length;
              if (healthyStopped > 0) expect(healthyBefore.length - healthyStopped).toBeGreaterThanOrEqual(bounds.floor);
              expect(w.record.events!.length).toBeLessThanOrEqual(MAX_SERVICE_EVENTS);
              break;
            }
            case 'agent': {
              const c = movable(w);
              if (c.length) agentStep(w, c[op.pick % c.length]!);
              break;
            }
            case 'crash': {
              const c = w.tasks.filter((t) => t.task.lastStatus !== 'STOPPED');
              if (c.length) agentStep(w, c[op.pick % c.length]!, 'fail');
              break;
            }
            case 'sick': {
              const c = running(w);
              if (c.length) c[op.pick % c.length]!.task.healthStatus = 'UNHEALTHY';
              break;
            }
            case 'desired':
              w.record = { ...w.record, desiredCount: op.value };
              break;
            case 'deploy':
              tds = [tds[1]!, tds[0]!];
              deploy(w, tds[0]!);
              break;
            case 'drain': {
              const i = op.pick % w.instances.length;
              w.instances = w.instances.map((x, k) => (k === i ? { ...x, status: x.status === 'ACTIVE' ? 'DRAINING' : 'ACTIVE' } : x));
              break;
            }
            case 'time':
              w.now += 15_000;
              break;
          }
        }
        // Calm: instances back, no sickness, a deployment nothing has failed in, and time for back-offs to pass.
        w.instances = w.instances.map((x) => ({ ...x, status: 'ACTIVE' }));
        for (const t of w.tasks) if (t.task.healthStatus === 'UNHEALTHY' && t.task.lastStatus !== 'STOPPED') agentStep(w, t, 'fail');
        w.now += 600_000;
        const target = w.record.desiredCount!;
        const bounds = healthBounds(target, limits);
        const id = deploy(w, tds[1]!);
        // With floor = ceiling = desired nothing old can go and nothing new can start: a rollout cannot proceed.
        if (!(bounds.floor === target && bounds.ceiling === target && target > 0)) {
          settle(w, 300);
          expect(live(w).filter((t) => t.task.startedBy === id)).toHaveLength(target);
          expect(live(w)).toHaveLength(target);
          expect(w.record.runningCount).toBe(target);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('a DAEMON service', () => {
  it('never starts a second task on an instance, and ends with one task on each ACTIVE instance', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('pass'), fc.constant('agent'), fc.constant('join'), fc.constant('drain'), fc.constant('deploy')), { maxLength: 80 }),
        fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
        (ops, picks) => {
          const w = world({ strategy: 'DAEMON', instances: [instance('i1'), instance('i2')] });
          let joined = 2;
          let tds = [TD1, TD2];
          ops.forEach((op, k) => {
            const pick = picks[k]!;
            if (op === 'pass') {
              const occupied = new Set(occupying(w).map((t) => t.instanceId));
              const plan = pass(w);
              for (const i of plan.launches) expect(occupied.has(i)).toBe(false);
              expect(new Set(plan.launches).size).toBe(plan.launches.length);
            } else if (op === 'agent') {
              const c = movable(w);
              if (c.length) agentStep(w, c[pick % c.length]!);
            } else if (op === 'join') {
              w.instances = [...w.instances, instance(`i${++joined}`)];
            } else if (op === 'drain') {
              const i = pick % w.instances.length;
              w.instances = w.instances.map((x, n) => (n === i ? { ...x, status: x.status === 'ACTIVE' ? 'DRAINING' : 'ACTIVE' } : x));
            } else {
              tds = [tds[1]!, tds[0]!];
              deploy(w, tds[0]!);
            }
          });
          settle(w, 100);
          const active = w.instances.filter((i) => i.status === 'ACTIVE').map((i) => i.id).sort();
          expect(live(w).map((t) => t.instanceId).sort()).toEqual(active);
          expect(w.record.desiredCount).toBe(active.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
