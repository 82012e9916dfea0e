import { vi } from 'vitest';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import { TaskEngine } from '../task-engine/engine.js';
import type { TaskState } from '../task-engine/task-state.js';
import { fakeWorld, type FakeWorld } from './fakes.js';
import { ManualClock } from './manual-clock.js';

/** Builders and waits shared by the task engine's unit tests. */
export const ARN = 'arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef';
export const TASK_ID = '0123456789abcdef0123456789abcdef';
export const id = (name: string) => `${TASK_ID}-${name}`;

export function container(name: string, extra: Partial<AcsContainer> = {}): AcsContainer {
  return { name, image: 'busybox', essential: true, memory: 64, environment: {}, overrides: '{}', containerArn: `arn:c/${name}`, ...extra };
}

export function task(containers: AcsContainer[], extra: Partial<AcsTask> = {}): AcsTask {
  return {
    arn: ARN,
    taskClusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
    family: 'web',
    version: '1',
    desiredStatus: 'RUNNING',
    overrides: '{}',
    containers,
    volumes: [],
    networkMode: 'bridge',
    launchType: 'EC2',
    ...extra,
  };
}

/** Wait until the engine's state of the task satisfies `check`. */
export async function until(engine: TaskEngine, check: (s: TaskState) => boolean, timeout = 2_000) {
  await vi.waitFor(
    () => {
      const s = engine.get(ARN);
      if (!s || !check(s)) throw new Error(`not yet: ${JSON.stringify(s && { known: s.known, containers: s.containers.map((c) => c.known) })}`);
    },
    { timeout, interval: 5 },
  );
  return engine.get(ARN)!;
}

export function setup(settings: Parameters<typeof fakeWorld>[0] = {}): FakeWorld & { engine: TaskEngine } {
  const world = fakeWorld(settings);
  world.images.add('busybox');
  return { ...world, engine: new TaskEngine(world.deps) };
}

/** An engine on fakes whose time moves only by `advance` (which also lets the engine settle). */
export function setupTimed(settings: Parameters<typeof fakeWorld>[0] = {}) {
  const clock = new ManualClock();
  const world = fakeWorld(settings, clock);
  world.images.add('busybox');
  let engine = new TaskEngine(world.deps);
  return {
    ...world,
    clock,
    /** The engine now (a new one after `restart`). */
    get engine() {
      return engine;
    },
    /** The task as the engine holds it now. */
    state: () => engine.get(ARN)!,
    /** Let the engine do all it can without time passing. */
    settle: () => engine.settled(),
    /** Move time on by `ms` (firing due timers) and let the engine settle. */
    async advance(ms: number) {
      clock.advance(ms);
      await engine.settled();
    },
    /** A new engine on the same world, as a restarted agent makes, recovering what was saved. */
    async restart(before?: () => void) {
      engine.shutdown();
      before?.();
      engine = new TaskEngine(world.deps);
      await engine.recover([...world.saved.values()].map((s) => structuredClone(s)));
      await engine.settled();
    },
  };
}
