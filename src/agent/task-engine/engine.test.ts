import { describe, expect, it, vi } from 'vitest';
import type { FakeWorld } from '../testing/fakes.js';
import { TaskEngine } from './engine.js';
import { ARN, container, id, setup, task, until } from '../testing/task-fixtures.js';

describe('task engine', () => {
  it('pulls, attaches, creates and starts every container, then reports RUNNING with host ports', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { portMappings: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }] }), container('side')])]);
    const s = await until(w.engine, (s) => s.known === 'RUNNING');
    expect(s.containers.map((c) => c.known)).toEqual(['RUNNING', 'RUNNING']);
    expect(s.containers[0]!.networkBindings).toEqual([
      { bindIP: '0.0.0.0', containerPort: 80, hostPort: 49153, protocol: 'tcp' },
      { bindIP: '0.0.0.0', containerPort: 81, hostPort: 8081, protocol: 'tcp' },
    ]);
    expect(w.network.attached.get(id('web'))?.portMappings).toHaveLength(2);
    expect(w.runtime.containers.get(id('web'))?.status).toBe('running');
    expect(w.reports.map((r) => r.known)).toContain('PENDING');
    expect(w.reports.at(-1)?.known).toBe('RUNNING');
    expect(w.saved.get(ARN)?.known).toBe('RUNNING');
  });

  it('stops the task when an essential container exits, with its exit code, and releases ports and networks', async () => {
    const w = setup({ taskCleanupWaitMs: 50 });
    w.engine.handlePayload([task([container('web', { portMappings: [{ containerPort: 80 }] }), container('side')])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.runtime.exit(id('web'), 3);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.stopReason).toBe('Essential container in task exited');
    expect(s.containers.find((c) => c.name === 'web')?.exitCode).toBe(3);
    expect(s.containers.find((c) => c.name === 'side')?.exitCode).toBe(143);
    expect(w.network.attached.size).toBe(0);
    expect(w.ports.holdings()).toEqual([]);
    // After the cleanup wait nothing of the task remains.
    await vi.waitFor(() => expect(w.runtime.containers.size).toBe(0), { timeout: 2_000 });
    expect(w.images.rootfs.size).toBe(0);
    await vi.waitFor(() => expect(w.saved.has(ARN)).toBe(false));
    expect(w.engine.get(ARN)).toBeUndefined();
  });

  it('lets a non-essential container exit alone', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web'), container('job', { essential: false })])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.runtime.exit(id('job'), 0);
    const s = await until(w.engine, (s) => s.containers[1]!.known === 'STOPPED');
    expect(s.known).toBe('RUNNING');
    expect(s.desired).toBe('RUNNING');
    expect(w.reports.at(-1)?.containers[1]).toMatchObject({ known: 'STOPPED', exitCode: 0 });
  });

  it('sends SIGTERM, then SIGKILL after the container stopTimeout when it does not exit', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { stopTimeout: 1 })])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.runtime.ignoreTerm.add(id('web'));
    const started = Date.now();
    w.engine.handlePayload([{ ...task([container('web', { stopTimeout: 1 })]), desiredStatus: 'STOPPED', stoppedReason: 'Task stopped by user' }]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED', 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(w.runtime.signals.map((x) => x.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(s.containers[0]?.exitCode).toBe(137);
    expect(s.stopReason).toBe('Task stopped by user');
  });

  it('fails a task whose image cannot be pulled with CannotPullContainerError and the registry reason', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { image: 'nope:1' })])]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.containers[0]?.reason).toBe('CannotPullContainerError: manifest for nope:1 not found: manifest unknown');
    expect(s.stopReason).toMatch(/^CannotPullContainerError/);
    expect(w.runtime.containers.size).toBe(0);
  });

  it('reports an OOM kill as OutOfMemoryError', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web')])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.runtime.exit(id('web'), 137, true);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.containers[0]).toMatchObject({ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' });
  });

  it('answers a task it never ran that the control plane wants stopped by reporting it STOPPED', async () => {
    const w = setup();
    w.engine.handlePayload([{ ...task([container('web')]), desiredStatus: 'STOPPED' }]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.containers[0]?.known).toBe('STOPPED');
    expect(w.images.pulls).toBe(0);
  });

  it('uses the cached image when the registry cannot be reached (default pull behaviour), and never pulls with prefer-cached', async () => {
    const w = setup();
    await w.images.pull('busybox');
    w.images.available.clear();
    w.engine.handlePayload([task([container('web')])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    const cached = setup({ imagePullBehavior: 'prefer-cached' });
    await cached.images.pull('busybox');
    const before = cached.images.pulls;
    cached.engine.handlePayload([task([container('web')])]);
    await until(cached.engine, (s) => s.known === 'RUNNING');
    expect(cached.images.pulls).toBe(before);
  });

  it('re-adopts running containers after a restart without restarting them, and reports exits that happened meanwhile', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web'), container('side', { essential: false })])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.engine.shutdown();
    // While the agent is away, the non-essential container exits.
    w.runtime.exit(id('side'), 7);
    const restarted = new TaskEngine(w.deps);
    await restarted.recover([structuredClone(w.saved.get(ARN)!)]);
    const s = await until(restarted, (s) => s.containers[1]!.known === 'STOPPED');
    expect(s.containers[1]?.exitCode).toBe(7);
    expect(s.known).toBe('RUNNING');
    expect(w.runtime.containers.get(id('web'))?.status).toBe('running');
    // The re-adopted container's later exit is seen too.
    w.runtime.exit(id('web'), 0);
    await until(restarted, (s) => s.known === 'STOPPED');
  });
});

describe('restarts in the middle of a stop', () => {
  it('still sends SIGKILL when the stop timeout ends after the agent restarted', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { stopTimeout: 1 })])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    w.runtime.ignoreTerm.add(id('web'));
    w.engine.handlePayload([{ ...task([container('web', { stopTimeout: 1 })]), desiredStatus: 'STOPPED' }]);
    await until(w.engine, (s) => s.containers[0]!.stopSignalAt !== undefined);
    await vi.waitFor(() => expect(w.saved.get(ARN)?.containers[0]?.stopSignalAt).toBeDefined());
    w.engine.shutdown();
    const restarted = new TaskEngine(w.deps);
    await restarted.recover([structuredClone(w.saved.get(ARN)!)]);
    const s = await until(restarted, (s) => s.known === 'STOPPED', 5_000);
    expect(s.containers[0]?.exitCode).toBe(137);
    expect(w.runtime.signals.map((x) => x.signal)).toEqual(['SIGTERM', 'SIGKILL']);
  });
});

describe('container dependencies', () => {
  const order = (w: FakeWorld) => [...w.runtime.containers.keys()].map((k) => k.split('-').at(-1));

  it('starts a container only after its START dependency, and stops dependents first', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }), container('db')])]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    expect(order(w)).toEqual(['db', 'app']);
    w.engine.handlePayload([{ ...task([container('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }), container('db')]), desiredStatus: 'STOPPED' }]);
    await until(w.engine, (s) => s.known === 'STOPPED');
    expect(w.runtime.signals.map((x) => x.id.split('-').at(-1))).toEqual(['app', 'db']);
  });

  it('waits for a SUCCESS dependency to exit 0, and fails the task when it exits otherwise', async () => {
    const w = setup();
    const defs = [container('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }), container('init', { essential: false })];
    w.engine.handlePayload([task(defs)]);
    await until(w.engine, (s) => s.containers[1]!.known === 'RUNNING');
    expect(w.runtime.containers.has(id('app'))).toBe(false);
    w.runtime.exit(id('init'), 0);
    await until(w.engine, (s) => s.containers[0]!.known === 'RUNNING');

    const failing = setup();
    failing.engine.handlePayload([task(defs)]);
    await until(failing.engine, (s) => s.containers[1]!.known === 'RUNNING');
    failing.runtime.exit(id('init'), 2);
    const s = await until(failing.engine, (s) => s.known === 'STOPPED');
    expect(s.stopReason).toBe("DependencyError: container 'app' needs 'init' to succeed, but it exited with code 2");
  });

  it('fails the task when a dependency does not get there within startTimeout', async () => {
    const w = setup();
    w.engine.handlePayload([
      task([container('app', { startTimeout: 1, dependsOn: [{ containerName: 'job', condition: 'COMPLETE' }] }), container('job', { essential: false })]),
    ]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED', 5_000);
    expect(s.stopReason).toBe("DependencyTimeoutError: container 'app' waited 1s for 'job' to reach COMPLETE");
  });
});
