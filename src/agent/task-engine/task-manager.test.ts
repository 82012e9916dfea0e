import { describe, expect, it } from 'vitest';
import { ARN, container, id, setupTimed, task } from '../testing/task-fixtures.js';
import type { TaskState } from './task-state.js';
import type { EngineDeps } from './deps.js';
import { SecretsUnavailableError } from '../secrets.js';

/**
 * Every transition of the task manager, on fakes, with time moved by hand: no wall-clock waits. Each
 * test drives events (payloads, exits, health results, timers, a restart) and checks what was saved,
 * reported and done to the runtime.
 */

const statuses = (s: TaskState) => s.containers.map((c) => c.known);
const stopped = (spec = task([container('web')]), reason = 'Task stopped by user') => ({ ...spec, desiredStatus: 'STOPPED' as const, stoppedReason: reason });

describe('towards RUNNING', () => {
  it('NONE → pull → PULLED → create → CREATED → start → RUNNING, saving and reporting each step', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web', { portMappings: [{ containerPort: 80 }] })])]);
    await w.settle();
    const seen = w.reports.map((r) => `${r.known}:${statuses(r).join(',')}`);
    expect(seen).toEqual(expect.arrayContaining(['PENDING:NONE', 'PENDING:PULLED', 'PENDING:CREATED', 'RUNNING:RUNNING']));
    // The last container's start makes the task RUNNING in the same save (no extra save and report).
    expect(seen).not.toContain('PENDING:RUNNING');
    expect(seen.indexOf('PENDING:PULLED')).toBeLessThan(seen.indexOf('PENDING:CREATED'));
    expect(seen.at(-1)).toBe('RUNNING:RUNNING');
    expect(w.saved.get(ARN)?.known).toBe('RUNNING');
    expect(w.runtime.containers.get(id('web'))?.status).toBe('running');
    expect(w.images.mounted.has(id('web'))).toBe(true);
    expect(w.clock.armed()).toEqual([]);
  });

  it('a runtime that mounts the root itself gets the overlay once the image\'s users are known; nothing is mounted by the agent', async () => {
    const w = setupTimed();
    w.runtime.mountsRootfsOverlay = true;
    const second = ARN.replace(/[0-9a-f]{32}$/, 'f'.repeat(32));
    // The image's first container: mounted here, its /etc/passwd read from the mount.
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    expect(w.runtime.containers.get(id('web'))?.spec.rootfsOverlay).toBeUndefined();
    expect(w.images.mounted.has(id('web'))).toBe(true);
    // The next: the runtime mounts it, inside the container; the agent mounts nothing.
    await w.engine.handlePayload([task([container('web')], { arn: second })]);
    await w.settle();
    const next = w.runtime.containers.get(`${'f'.repeat(32)}-web`);
    expect(next?.status).toBe('running');
    expect(next?.spec.rootfsOverlay).toMatchObject({ lowerdirs: ['/fake/layers/1'], upperdir: expect.stringContaining('/upper') });
    expect(w.images.mounted.has(`${'f'.repeat(32)}-web`)).toBe(false);
    expect(w.images.rootfs.has(`${'f'.repeat(32)}-web`)).toBe(true);
  });

  it('a cached image (prefer-cached) is no step of its own: pulled, created and started in three saves', async () => {
    const w = setupTimed({ imagePullBehavior: 'prefer-cached' });
    for (const [ref, image] of w.images.available) w.images.cached.set(ref, image);
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    expect(w.images.pulls).toBe(0);
    // Before anything is made (runtime id recorded), created, running: the pull rides with the first.
    expect(w.reports.map((r) => `${r.known}:${statuses(r).join(',')}`)).toEqual(['PENDING:PULLED', 'PENDING:CREATED', 'RUNNING:RUNNING']);
    expect(w.reports[0]).toMatchObject({ pullStartedAt: expect.any(Number), pullStoppedAt: expect.any(Number), containers: [{ imageDigest: expect.stringMatching(/^sha256:/) }] });
    // An image not in the cache is pulled as before, with a save as the pull begins.
    const v = setupTimed({ imagePullBehavior: 'prefer-cached' });
    await v.engine.handlePayload([task([container('web')])]);
    await v.settle();
    expect(v.images.pulls).toBe(1);
    expect(v.reports.map((r) => `${r.known}:${statuses(r).join(',')}`).slice(0, 2)).toEqual(['PENDING:NONE', 'PENDING:PULLED']);
  });

  it('acknowledges a payload only once the new task is saved', async () => {
    const w = setupTimed();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const persist = w.deps.persist;
    (w.deps as { persist: typeof persist }).persist = async (s) => {
      await gate;
      await persist(s);
    };
    let acked = false;
    const handled = w.engine.handlePayload([task([container('web')])]).then(() => (acked = true));
    await new Promise((r) => setImmediate(r));
    expect(acked).toBe(false);
    expect(w.saved.has(ARN)).toBe(false);
    release();
    await handled;
    expect(w.saved.get(ARN)).toBeDefined();
  });

  it('acknowledges a stop only once desired STOPPED is saved', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    await w.engine.handlePayload([stopped()]);
    expect(w.saved.get(ARN)).toMatchObject({ desired: 'STOPPED', stopReason: 'Task stopped by user' });
  });

  it('acknowledges a payload that says nothing new at once, even while the task is busy pulling', async () => {
    const w = setupTimed();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pull = w.images.pull.bind(w.images);
    w.images.pull = async (ref: string) => {
      await gate;
      return pull(ref);
    };
    await w.engine.handlePayload([task([container('web')])]);
    await new Promise((r) => setImmediate(r));
    expect(w.state().known).toBe('PENDING');
    // The resend on reconnect: desired RUNNING, as saved.
    await w.engine.handlePayload([task([container('web')])]);
    let stopAcked = false;
    const stop = w.engine.handlePayload([stopped()]).then(() => (stopAcked = true));
    await new Promise((r) => setImmediate(r));
    expect(stopAcked).toBe(false);
    release();
    await stop;
    expect(w.saved.get(ARN)?.desired).toBe('STOPPED');
    await w.settle();
    expect(w.state().known).toBe('STOPPED');
    expect(w.runtime.containers.size).toBe(0);
  });

  it('pull failure → CannotPullContainerError, the task STOPPED without a container', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web', { image: 'nope:1' })])]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: expect.stringMatching(/^CannotPullContainerError/) });
    expect(w.runtime.containers.size).toBe(0);
  });

  it("secrets: fetched for the container's environment and marked secret for the runtime; a failure stops the task with ECS's reason", async () => {
    const w = setupTimed();
    const asked: string[] = [];
    (w.deps as { resolveSecrets: EngineDeps['resolveSecrets'] }).resolveSecrets = async (_arn, secrets) => {
      asked.push(...secrets.map((x) => x.valueFrom!));
      if (secrets.some((x) => x.valueFrom === '/missing')) throw new SecretsUnavailableError('ResourceInitializationError: unable to pull secrets or registry auth: no such parameter');
      return Object.fromEntries(secrets.map((x) => [x.name!, `value-of-${x.valueFrom}`]));
    };
    await w.engine.handlePayload([task([container('web', { secrets: [{ name: 'DB', valueFrom: '/db' }] })])]);
    await w.settle();
    const spec = w.runtime.containers.get(id('web'))!.spec;
    expect(spec.process.env).toContain('DB=value-of-/db');
    expect(spec.secretEnvNames).toEqual(['DB']);
    expect(JSON.stringify(w.saved.get(ARN))).not.toContain('value-of-');
    expect(asked).toEqual(['/db']);

    const v = setupTimed();
    (v.deps as { resolveSecrets: EngineDeps['resolveSecrets'] }).resolveSecrets = w.deps.resolveSecrets;
    await v.engine.handlePayload([task([container('web', { secrets: [{ name: 'DB', valueFrom: '/missing' }] })])]);
    await v.settle();
    expect(v.state()).toMatchObject({ known: 'STOPPED', stopReason: 'ResourceInitializationError: unable to pull secrets or registry auth: no such parameter' });
    expect(v.runtime.containers.size).toBe(0);
  });

  it('create failure → CannotCreateContainerError; nothing runs, the prepared network and rootfs are released', async () => {
    const w = setupTimed();
    w.runtime.failCreate = 'runc create failed: boom';
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: 'CannotCreateContainerError: runc create failed: boom' });
    expect(w.network.attached.size).toBe(0);
    expect(w.images.mounted.size).toBe(0);
  });

  it('start failure → CannotStartContainerError, and the created container is deleted', async () => {
    const w = setupTimed();
    const start = w.runtime.start.bind(w.runtime);
    w.runtime.start = async () => {
      throw new Error('exec format error');
    };
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: 'CannotStartContainerError: exec format error' });
    expect(w.runtime.containers.size).toBe(0);
    w.runtime.start = start;
  });

  it('a container waits for its dependency; startTimeout fails the task exactly when it passes', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([
      task([container('app', { startTimeout: 10, dependsOn: [{ containerName: 'job', condition: 'COMPLETE' }] }), container('job', { essential: false })]),
    ]);
    await w.settle();
    expect(statuses(w.state())).toEqual(['PULLED', 'RUNNING']);
    expect(w.state().containers[0]!.waitingSince).toBe(w.clock.now());
    await w.advance(9_999);
    expect(w.state().desired).toBe('RUNNING');
    await w.advance(1);
    expect(w.state().stopReason).toBe("DependencyTimeoutError: container 'app' waited 10s for 'job' to reach COMPLETE");
    expect(w.state().known).toBe('STOPPED');
  });

  it('a dependency that completes in time lets the container start, and its timer is forgotten', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('app', { startTimeout: 10, dependsOn: [{ containerName: 'job', condition: 'SUCCESS' }] }), container('job', { essential: false })])]);
    await w.settle();
    await w.advance(5_000);
    w.runtime.exit(id('job'), 0);
    await w.settle();
    expect(statuses(w.state())).toEqual(['RUNNING', 'STOPPED']);
    await w.advance(60_000);
    expect(w.state().known).toBe('RUNNING');
  });

  it('health results are events: status saved and sent; a HEALTHY dependency then starts', async () => {
    const w = setupTimed();
    const frames: unknown[] = [];
    (w.deps as { reportHealth?: (c: unknown) => void }).reportHealth = (c) => frames.push(c);
    await w.engine.handlePayload([
      task([
        container('db', { healthCheck: { command: ['CMD', 'true'], interval: 5, retries: 1 } }),
        container('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
      ]),
    ]);
    await w.settle();
    expect(statuses(w.state())).toEqual(['RUNNING', 'PULLED']);
    w.runtime.execResults.set(id('db'), 1);
    await w.advance(5_000);
    await w.settle();
    expect(w.state().containers[0]!.healthStatus).toBe('UNHEALTHY');
    w.runtime.execResults.set(id('db'), 0);
    await w.advance(5_000);
    await w.settle();
    expect(w.saved.get(ARN)?.containers[0]?.healthStatus).toBe('HEALTHY');
    expect(statuses(w.state())).toEqual(['RUNNING', 'RUNNING']);
    expect(frames).toEqual([
      { taskArn: ARN, containers: [{ containerName: 'db', healthStatus: 'UNHEALTHY' }, { containerName: 'app', healthStatus: 'UNKNOWN' }] },
      { taskArn: ARN, containers: [{ containerName: 'db', healthStatus: 'HEALTHY' }, { containerName: 'app', healthStatus: 'UNKNOWN' }] },
    ]);
  });
});

describe('towards STOPPED', () => {
  it('RUNNING → SIGTERM; SIGKILL exactly at stopTimeout; exit → STOPPED, rootfs unmounted, networks and ports back; cleanup at cleanupAt', async () => {
    const w = setupTimed({ taskCleanupWaitMs: 60_000 });
    const spec = task([container('web', { stopTimeout: 30, portMappings: [{ containerPort: 80 }] })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    w.runtime.ignoreTerm.add(id('web'));
    await w.engine.handlePayload([stopped(spec)]);
    await w.settle();
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM']);
    expect(w.state().known).toBe('STOPPING');
    await w.advance(29_999);
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM']);
    await w.advance(1);
    await w.settle();
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    const s = w.state();
    expect(s).toMatchObject({ known: 'STOPPED', stopReason: 'Task stopped by user' });
    expect(s.containers[0]).toMatchObject({ exitCode: 137, rootfsReleased: true });
    expect(w.images.mounted.size).toBe(0);
    // The writable layer stays until the cleanup.
    expect(w.images.rootfs.has(id('web'))).toBe(true);
    expect(w.network.attached.size).toBe(0);
    expect(w.ports.holdings()).toEqual([]);
    await w.advance(59_999);
    expect(w.engine.get(ARN)).toBeDefined();
    await w.advance(1);
    expect(w.engine.get(ARN)).toBeUndefined();
    expect(w.saved.has(ARN)).toBe(false);
    expect(w.runtime.containers.size).toBe(0);
    expect(w.images.rootfs.size).toBe(0);
  });

  it('an essential container exits → the others get SIGTERM, and the reason is the exit', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web'), container('side')])]);
    await w.settle();
    w.runtime.exit(id('web'), 3);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: 'Essential container in task exited' });
    expect(w.state().containers.map((c) => c.exitCode)).toEqual([3, 143]);
  });

  it('an essential container that exits while the others are being made stops the task: those never start (as in ECS)', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('app', { command: ['sh', '-c', 'exit 0'] }), container('side')])]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED', stopReason: 'Essential container in task exited' });
    expect(w.state().containers.map((c) => [c.known, c.exitCode, c.startedAt !== undefined])).toEqual([
      ['STOPPED', 0, true],
      ['STOPPED', undefined, false],
    ]);
  });

  it('a non-essential exit only unmounts that container', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web'), container('job', { essential: false })])]);
    await w.settle();
    w.runtime.exit(id('job'), 0);
    await w.settle();
    expect(w.state().known).toBe('RUNNING');
    expect([...w.images.mounted]).toEqual([id('web')]);
  });

  it('NONE, PULLED and CREATED are discarded: nothing starts, a created container is deleted', async () => {
    const w = setupTimed();
    // 'app' waits (CREATED never, PULLED) for 'job', which runs; stop comes meanwhile.
    await w.engine.handlePayload([task([container('app', { dependsOn: [{ containerName: 'job', condition: 'SUCCESS' }] }), container('job', { essential: false })])]);
    await w.settle();
    expect(statuses(w.state())).toEqual(['PULLED', 'RUNNING']);
    await w.engine.handlePayload([stopped(task([container('app'), container('job', { essential: false })]))]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
    expect(w.runtime.containers.has(id('app'))).toBe(false);

    const never = setupTimed();
    await never.engine.handlePayload([stopped()]);
    await never.settle();
    expect(never.state().known).toBe('STOPPED');
    expect(never.images.pulls).toBe(0);
  });

  it('a container the runtime lost while being stopped is STOPPED, not stuck STOPPING', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    w.runtime.containers.delete(id('web'));
    await w.engine.handlePayload([stopped()]);
    await w.settle();
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
    expect(w.state().containers[0]!.reason).toBe('The container was lost while the agent was not running');
  });
});

describe('recovery after a restart', () => {
  it('re-arms SIGKILL from the saved SIGTERM time', async () => {
    const w = setupTimed();
    const spec = task([container('web', { stopTimeout: 30 })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    w.runtime.ignoreTerm.add(id('web'));
    await w.engine.handlePayload([stopped(spec)]);
    await w.settle();
    await w.advance(10_000);
    await w.restart();
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM']);
    await w.advance(19_999);
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM']);
    await w.advance(1);
    expect(w.runtime.signals.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(w.state().known).toBe('STOPPED');
  });

  it('reports exits that happened while away, and a container gone from the runtime as lost', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web'), container('side', { essential: false }), container('gone', { essential: false })])]);
    await w.settle();
    await w.restart(() => {
      w.runtime.exit(id('side'), 7);
      w.runtime.containers.delete(id('gone'));
    });
    const s = w.state();
    expect(s.known).toBe('RUNNING');
    expect(s.containers.map((c) => [c.known, c.exitCode])).toEqual([
      ['RUNNING', undefined],
      ['STOPPED', 7],
      ['STOPPED', 137],
    ]);
    expect(s.containers[2]!.reason).toBe('The container was lost while the agent was not running');
    // The re-adopted container's later exit is seen too.
    w.runtime.exit(id('web'), 0);
    await w.settle();
    expect(w.state().known).toBe('STOPPED');
  });

  /**
   * A crash at every save of a start: the k-th save never lands (the process died during it), so the
   * disk holds the state of save k-1 while the host holds whatever the steps before did. The restarted
   * engine must converge to RUNNING with exactly one container, one network attachment and one mounted
   * rootfs per container, none started twice.
   */
  it('converges from a crash at every save of a start, without duplicates or leaks', async () => {
    const spec = task([container('web', { portMappings: [{ containerPort: 80 }] }), container('side')]);
    const probe = setupTimed();
    await probe.engine.handlePayload([spec]);
    await probe.settle();
    const saves = probe.reports.length;
    expect(saves).toBeGreaterThan(6);
    for (let k = 1; k <= saves; k++) {
      const w = setupTimed();
      let count = 0;
      const persist = w.deps.persist;
      (w.deps as { persist: typeof persist }).persist = (s) => (++count >= k ? new Promise(() => {}) : persist(s));
      // Never settles: its save, or a later one, hangs as the process died.
      void w.engine.handlePayload([spec]).catch(() => {});
      for (let i = 0; i < 1_000 && count < k; i++) await new Promise((r) => setImmediate(r));
      expect(count).toBe(k);
      // Let work running beside the hung save finish its effects (the attach beside a create) before the "crash".
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      (w.deps as { persist: typeof persist }).persist = persist;
      const startsBefore = [...w.runtime.containers.values()].filter((c) => c.status !== 'created').length;
      await w.restart();
      if (!w.engine.get(ARN)) {
        // Crashed before the task was first saved: the control plane sends it again on reconnect.
        await w.engine.handlePayload([spec]);
        await w.settle();
      }
      const s = w.state();
      expect({ k, known: s.known, containers: statuses(s) }).toEqual({ k, known: 'RUNNING', containers: ['RUNNING', 'RUNNING'] });
      expect([...w.runtime.containers.keys()].sort()).toEqual([id('side'), id('web')]);
      expect([...w.network.attached.keys()].sort()).toEqual([id('side'), id('web')]);
      expect([...w.images.mounted].sort()).toEqual([id('side'), id('web')]);
      expect(w.ports.holdings().map((h) => h.owner)).toEqual([id('web')]);
      expect(startsBefore).toBeLessThanOrEqual(2);
    }
  });

  it('a container saved CREATED but found running (started just before the crash) is RUNNING, not started again', async () => {
    const w = setupTimed();
    await w.engine.handlePayload([task([container('web')])]);
    await w.settle();
    const saved = w.saved.get(ARN)!;
    saved.containers[0]!.known = 'CREATED';
    saved.known = 'PENDING';
    delete saved.containers[0]!.startedAt;
    let starts = 0;
    const start = w.runtime.start.bind(w.runtime);
    w.runtime.start = async (x) => {
      starts++;
      return start(x);
    };
    await w.restart();
    expect(starts).toBe(0);
    expect(w.state()).toMatchObject({ known: 'RUNNING' });
    expect(w.state().containers[0]!.startedAt).toBeDefined();
    expect(w.reports.at(-1)?.known).toBe('RUNNING');
  });
});
