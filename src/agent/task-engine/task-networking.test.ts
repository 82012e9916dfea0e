import { describe, expect, it, vi } from 'vitest';
import { ARN, TASK_ID, container, id, setup, task, until } from '../testing/task-fixtures.js';
import { TaskEngine } from './engine.js';
import type { TaskAttachmentChange } from '../../model/acs.js';

describe('awsvpc tasks', () => {
  it('attach one network for the task before any container, and every container joins it', async () => {
    const w = setup();
    const attachments: TaskAttachmentChange[] = [];
    const engine = new TaskEngine({ ...w.deps, reportAttachment: (a) => attachments.push(a) });
    engine.handlePayload([task([container('web', { portMappings: [{ containerPort: 80, hostPort: 80 }] }), container('side')], { networkMode: 'awsvpc' })]);
    const s = await until(engine, (s) => s.known === 'RUNNING');
    expect([...w.network.attached.entries()]).toEqual([[TASK_ID, { id: TASK_ID, mode: 'awsvpc', portMappings: [] }]]);
    const ip = s.taskNetwork!.ipv4Address!;
    for (const name of ['web', 'side']) {
      expect(w.runtime.containers.get(id(name))?.spec.network).toBe(`/var/run/netns/fake-${TASK_ID}`);
      expect(w.runtime.containers.get(id(name))?.spec.hostname).toBe(`ip-${ip.replaceAll('.', '-')}`);
      expect(w.files.hosts.get(id(name))).toEqual([{ ip, names: [`ip-${ip.replaceAll('.', '-')}`] }]);
    }
    // The container listens on the task's own address: no host port is taken, none reported.
    expect(w.ports.holdings()).toEqual([]);
    expect(s.containers.map((c) => [c.ipv4Address, c.networkBindings])).toEqual([
      [ip, []],
      [ip, []],
    ]);
    expect(attachments).toEqual([{ taskArn: ARN, status: 'ATTACHED', privateIPv4Address: ip, macAddress: '0a:58:ac:1e:00:02' }]);

    w.runtime.exit(id('web'), 0);
    await until(engine, (s) => s.known === 'STOPPED');
    expect(w.network.attached.size).toBe(0);
    expect(engine.get(ARN)?.taskNetwork).toBeUndefined();
  });

  it('fail the task with ResourceInitializationError when the network cannot be made, creating no container', async () => {
    const w = setup();
    w.network.failAttach = 'no addresses left in 172.30.0.0/16';
    w.engine.handlePayload([task([container('web')], { networkMode: 'awsvpc' })]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.stopReason).toBe("ResourceInitializationError: could not set up the task's network interface: no addresses left in 172.30.0.0/16");
    expect(w.runtime.containers.size).toBe(0);
  });

  it('redo a task network attach a crash interrupted, undoing the half-made one first', async () => {
    const w = setup();
    const spec = task([container('web')], { networkMode: 'awsvpc' });
    w.engine.handlePayload([spec]);
    await until(w.engine, (s) => s.known === 'RUNNING');
    // As saved right after the attach began: the record names the attachment, nothing more is known.
    const saved = structuredClone(w.saved.get(ARN)!);
    saved.taskNetwork = { id: TASK_ID };
    saved.known = 'PENDING';
    for (const c of saved.containers) Object.assign(c, { known: 'PULLED', runtimeId: undefined, startedAt: undefined });
    w.engine.shutdown();
    w.runtime.containers.clear();
    const detached: string[] = [];
    const restarted = new TaskEngine({ ...w.deps, network: Object.assign(w.network, { detach: async (x: string) => void detached.push(x) }) });
    await restarted.recover([saved]);
    await until(restarted, (s) => s.known === 'RUNNING');
    expect(detached).toEqual([TASK_ID]);
  });
});

describe('bridge networking details', () => {
  it('start linked containers first and put their addresses in /etc/hosts, by alias and name', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { links: ['db:database', 'cache'] }), container('db'), container('cache')])]);
    const s = await until(w.engine, (s) => s.known === 'RUNNING');
    const started = (name: string) => s.containers.find((c) => c.name === name)!.startedAt!;
    expect(started('web')).toBeGreaterThanOrEqual(started('db'));
    const ip = (name: string) => s.containers.find((c) => c.name === name)!.ipv4Address!;
    expect(w.files.hosts.get(id('web'))).toEqual([
      { ip: ip('web'), names: [id('web').slice(0, 12)] },
      { ip: ip('db'), names: ['database', 'db'] },
      { ip: ip('cache'), names: ['cache'] },
    ]);
    // Stop order is the reverse: the linking container stops before what it links to.
    w.runtime.ignoreTerm.add(id('web'));
    w.engine.handlePayload([{ ...task([]), desiredStatus: 'STOPPED' }]);
    await vi.waitFor(() => expect(w.runtime.signals.map((x) => x.id)).toContain(id('web')));
    expect(w.runtime.signals.map((x) => x.id)).not.toContain(id('db'));
  });

  it('write hostname, extraHosts and DNS settings into the container files', async () => {
    const w = setup();
    w.engine.handlePayload([
      task([
        container('web', {
          hostname: 'web.internal',
          extraHosts: [{ hostname: 'api.example', ipAddress: '10.1.2.3' }],
          dnsServers: ['10.0.0.2'],
          dnsSearchDomains: ['svc.local'],
        }),
      ]),
    ]);
    const s = await until(w.engine, (s) => s.known === 'RUNNING');
    expect(w.runtime.containers.get(id('web'))?.spec.hostname).toBe('web.internal');
    expect(w.files.hosts.get(id('web'))).toEqual([
      { ip: s.containers[0]!.ipv4Address, names: ['web.internal'] },
      { ip: '10.1.2.3', names: ['api.example'] },
    ]);
    expect(w.files.etc.get(id('web'))).toMatchObject({ dnsServers: ['10.0.0.2'], dnsSearchDomains: ['svc.local'], hostNetwork: false });
  });

  it('give a container with disableNetworking a namespace of its own from the runtime (loopback only), and no host ports', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { disableNetworking: true, portMappings: [{ containerPort: 80 }] })])]);
    const s = await until(w.engine, (s) => s.known === 'RUNNING');
    // No attachment: the runtime makes a new, empty namespace (runc brings its loopback up).
    expect(w.network.attached.size).toBe(0);
    expect(s.containers[0]!.networkId).toBeUndefined();
    expect(w.runtime.containers.get(id('web'))?.spec.network).toBeUndefined();
    expect(s.containers[0]!.networkBindings).toEqual([]);
    expect(w.ports.holdings()).toEqual([]);
  });

  it('detach attachments no saved task holds when the agent starts', async () => {
    const w = setup();
    await w.network.attach({ id: 'orphan', mode: 'bridge', portMappings: [] });
    await w.engine.recover([]);
    expect(w.network.attached.size).toBe(0);
  });
});

describe('task volumes', () => {
  it('resolve the volumes a container uses, mount them, and remove the task-scoped ones at cleanup', async () => {
    const w = setup({ taskCleanupWaitMs: 20 });
    w.engine.handlePayload([
      task(
        [
          container('writer', { essential: false, mountPoints: [{ sourceVolume: 'scratch', containerPath: '/out' }] }),
          container('reader', {
            volumesFrom: [{ sourceContainer: 'writer', readOnly: true }],
            mountPoints: [{ sourceVolume: 'config', containerPath: '/etc/app', readOnly: true }],
            dependsOn: [{ containerName: 'writer', condition: 'SUCCESS' }],
          }),
        ],
        { volumes: [{ name: 'scratch' }, { name: 'config', host: { sourcePath: '/srv/config' } }, { name: 'unused' }] },
      ),
    ]);
    await until(w.engine, (s) => s.containers.find((c) => c.name === 'writer')?.known === 'RUNNING');
    expect(w.runtime.containers.get(id('writer'))?.spec.mounts).toEqual([
      { destination: '/out', source: `/fake/volumes/tasks/${TASK_ID}/scratch`, type: 'bind', readOnly: false },
    ]);
    w.runtime.exit(id('writer'), 0);
    await until(w.engine, (s) => s.containers.find((c) => c.name === 'reader')?.known === 'RUNNING');
    expect(w.runtime.containers.get(id('reader'))?.spec.mounts).toEqual([
      { destination: '/etc/app', source: '/srv/config', type: 'bind', readOnly: true },
      { destination: '/out', source: `/fake/volumes/tasks/${TASK_ID}/scratch`, type: 'bind', readOnly: true },
    ]);
    expect(w.volumes.resolved.map((v) => v.name)).not.toContain('unused');
    w.runtime.exit(id('reader'), 0);
    await until(w.engine, (s) => s.known === 'STOPPED');
    await vi.waitFor(() => expect(w.volumes.removed).toEqual([TASK_ID]));
  });

  it('fail the container with CannotCreateContainerError when a mount point names an undefined volume', async () => {
    const w = setup();
    w.engine.handlePayload([task([container('web', { mountPoints: [{ sourceVolume: 'nope', containerPath: '/data' }] })])]);
    const s = await until(w.engine, (s) => s.known === 'STOPPED');
    expect(s.containers[0]!.reason).toBe("CannotCreateContainerError: mount point '/data' names volume 'nope', which the task does not define");
  });
});
