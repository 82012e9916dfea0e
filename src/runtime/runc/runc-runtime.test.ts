import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupMountPoints, readCriLog, startRuntimeFixture, waitForLog, type RuntimeFixture } from '../../testing/runtime-fixture.js';
import { ContainerCreateError, ContainerExistsError, ContainerNotFoundError, ContainerStartError, InvalidContainerSpecError } from '../errors.js';
import { SpawnHelper } from '../../process/spawn-helper.js';
import type { ContainerSpec } from '../runtime.js';
import { RuncRuntime } from './runc-runtime.js';

let f: RuntimeFixture;
beforeAll(async () => {
  f = await startRuntimeFixture();
});
afterAll(async () => {
  await f?.cleanup();
});

/** Resolves with the promise's value, or 'pending' if it has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

/** Everything on the host that could remain of container `id`. */
function leftovers(id: string): string[] {
  const found: string[] = [];
  const runcList = execFileSync('runc', [`--root=${join(f.stateDir, 'runc')}`, 'list', '-q'], { encoding: 'utf8' });
  if (runcList.split('\n').includes(id)) found.push('runc state');
  for (const mount of cgroupMountPoints()) if (existsSync(join(mount, f.cgroupParent, id))) found.push(`cgroup ${mount}`);
  if (existsSync(join(f.stateDir, 'containers', id))) found.push('bundle');
  if (existsSync(join(f.stateDir, 'exits', id))) found.push('exit file');
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(id)) found.push('mount');
  const conmons = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('/usr/bin/conmon') && l.includes(`--cid ${id} `));
  if (conmons.length > 0) found.push('conmon');
  return found;
}

describe('process', () => {
  it('runs args with env, cwd, user, groups and hostname', async () => {
    const { exit, stdout } = await f.run(f.id('proc'), ['sh', '-c', 'echo "args=$1,$2"; echo "FOO=$FOO"; pwd; id -u; id -g; id -G; hostname', 'sh', 'one', 'two'], {
      process: { env: ['PATH=/bin', 'FOO=bar baz'], cwd: '/tmp', uid: 65534, gid: 65534, additionalGids: [10] },
      hostname: 'web-1',
    });
    expect(exit.exitCode).toBe(0);
    expect(stdout.split('\n')).toEqual(['args=one,two', 'FOO=bar baz', '/tmp', '65534', '65534', '65534 10', 'web-1']);
  });

  it('gives secret environment to the process and keeps it nowhere on disk once created', async () => {
    const id = f.id('secret');
    // No exec: the process stays the shell, whose environment /proc shows (a process in the middle of an
    // execve shows an empty one).
    const spec = f.spec(id, ['sh', '-c', 'echo "S=$DB_PASSWORD $PLAIN"; sleep 60'], {
      process: { env: ['PATH=/bin', 'DB_PASSWORD=s3cr3t-zq81', 'PLAIN=visible'], cwd: '/', uid: 0, gid: 0 },
      secretEnvNames: ['DB_PASSWORD'],
    });
    await f.runtime.create(spec);
    try {
      const { pid } = await f.runtime.start(id);
      await waitForLog(spec.logPath, 'S=s3cr3t-zq81 visible');
      await expect.poll(() => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'), { timeout: 5_000 }).toContain('DB_PASSWORD=s3cr3t-zq81');
      // Nothing berth or runc keeps for the live container holds the value: the bundle's config.json keeps the name only.
      const grep = execFileSync('sh', ['-c', `grep -rl -- s3cr3t-zq81 ${f.stateDir}; echo rc=$?`], { encoding: 'utf8' }).trim();
      expect(grep).toBe('rc=1');
      const config = JSON.parse(readFileSync(join(f.stateDir, 'containers', id, 'config.json'), 'utf8')) as { process: { env: string[] } };
      expect(config.process.env).toEqual(expect.arrayContaining(['DB_PASSWORD=', 'PLAIN=visible']));
    } finally {
      await f.runtime.delete(id);
    }
  });

  it.each([0, 3])('reports exit code %i', async (code) => {
    const { exit } = await f.run(f.id(`exit${code}`), ['sh', '-c', `exit ${code}`]);
    expect(exit).toMatchObject({ exitCode: code, oomKilled: false });
    expect(Math.abs(exit.exitedAt - Date.now())).toBeLessThan(10_000);
  });

  it('writes stdout and stderr separately in the CRI log format, marking a last partial line', async () => {
    const { log } = await f.run(f.id('log'), ['sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf tail']);
    expect(log.map((l) => [l.stream, l.text, l.partial])).toEqual(
      expect.arrayContaining([['stdout', 'out1', false], ['stderr', 'err1', false], ['stdout', 'out2', false], ['stdout', 'tail', true]]),
    );
    expect(log.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['out1', 'out2', 'tail']);
    for (const line of log) expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d$/);
  });
});

describe('lifecycle', () => {
  it('goes created → running → stopped, with labels kept', async () => {
    const id = f.id('states');
    // The container exits 5 once the test creates /tmp/<id> in the (shared) rootfs.
    const spec = f.spec(id, ['sh', '-c', `while [ ! -e /tmp/${id} ]; do sleep 0.05; done; exit 5`], { labels: { 'com.amazonaws.ecs.container-name': 'web', empty: '' } });
    await f.runtime.create(spec);
    const created = await f.runtime.state(id);
    expect(created).toMatchObject({ status: 'created', labels: spec.labels });
    const { pid } = await f.runtime.start(id);
    expect(pid).toBe(created?.pid);
    expect(await f.runtime.state(id)).toEqual({ status: 'running', pid, labels: spec.labels });
    expect(await f.runtime.list()).toContain(id);
    writeFileSync(join(f.rootfs, 'tmp', id), '');
    const exit = await f.runtime.wait(id);
    expect(exit.exitCode).toBe(5);
    expect(await f.runtime.state(id)).toEqual({ status: 'stopped', exit, labels: spec.labels });
    expect(await f.runtime.wait(id)).toEqual(exit);
    await f.runtime.delete(id);
    expect(await f.runtime.state(id)).toBeUndefined();
    expect(await f.runtime.list()).not.toContain(id);
  });

  it('SIGKILL ends a container with 137', async () => {
    const id = f.id('sigkill');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    await f.runtime.start(id);
    await f.runtime.kill(id, 'SIGKILL');
    expect((await f.runtime.wait(id)).exitCode).toBe(137);
    await f.runtime.kill(id, 'SIGTERM'); // a stopped container is not an error
    await f.runtime.delete(id);
  });

  it('SIGTERM ends a container with 143 (through the init, which forwards it)', async () => {
    const id = f.id('sigterm');
    const spec = f.spec(id, ['sh', '-c', 'echo ready; exec sleep 1000'], { init: true });
    await f.runtime.create(spec);
    await f.runtime.start(id);
    // Until the init has set up its signal handling, the kernel drops SIGTERM to a namespace's pid 1.
    await waitForLog(spec.logPath, 'ready');
    await f.runtime.kill(id, 'SIGTERM');
    expect((await f.runtime.wait(id)).exitCode).toBe(143);
    await f.runtime.delete(id);
  });

  it('a process that ignores SIGTERM keeps running until SIGKILL', async () => {
    const id = f.id('trap');
    const spec = f.spec(id, ['sh', '-c', 'trap "" TERM; echo trapped; while true; do sleep 1; done'], { init: true });
    await f.runtime.create(spec);
    await f.runtime.start(id);
    await waitForLog(spec.logPath, 'trapped');
    await f.runtime.kill(id, 'SIGTERM');
    expect(await within(f.runtime.wait(id), 1500)).toBe('pending');
    expect((await f.runtime.state(id))?.status).toBe('running');
    await f.runtime.kill(id, 'SIGKILL');
    expect((await f.runtime.wait(id)).exitCode).toBe(137);
    await f.runtime.delete(id);
  });

  it('a created container that is killed before it starts is stopped with 137', async () => {
    const id = f.id('killcreated');
    await f.runtime.create(f.spec(id, ['true']));
    await f.runtime.kill(id, 'SIGKILL');
    expect((await f.runtime.wait(id)).exitCode).toBe(137);
    expect((await f.runtime.state(id))?.status).toBe('stopped');
    await expect(f.runtime.start(id)).rejects.toThrow(ContainerStartError);
    await f.runtime.delete(id);
  });
});

describe('monitor', () => {
  it("runs conmon in a cgroup of its own, outside the agent's, in the hierarchies a service manager tracks", async () => {
    const id = f.id('monitor');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    try {
      const conmonPid = readFileSync(join(f.stateDir, 'containers', id, 'conmon.pid'), 'utf8').trim();
      const lines = readFileSync(`/proc/${conmonPid}/cgroup`, 'utf8').trim().split('\n');
      const tracked = lines.filter((l) => l.startsWith('0::') || l.includes(':name='));
      expect(tracked.length).toBeGreaterThan(0);
      for (const line of tracked) expect(line).toMatch(new RegExp(`:${f.cgroupParent}/_conmon$`));
    } finally {
      await f.runtime.delete(id);
    }
  });

  it('if conmon is killed, the exit is reported as unknown (255) once the container is gone', async () => {
    const id = f.id('nomonitor');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    await f.runtime.start(id);
    const conmonPid = Number(readFileSync(join(f.stateDir, 'containers', id, 'conmon.pid'), 'utf8'));
    process.kill(conmonPid, 'SIGKILL');
    expect((await f.runtime.state(id))?.status).toBe('running');
    await f.runtime.kill(id, 'SIGKILL');
    expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 255, oomKilled: false });
    expect((await f.runtime.state(id))?.exit?.exitCode).toBe(255);
    await f.runtime.delete(id);
    expect(leftovers(id)).toEqual([]);
  });
  it('a wait already under way when conmon is killed ends with the unknown exit (its conmon checked by pid and start time)', async () => {
    const id = f.id('monitorlost');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    await f.runtime.start(id);
    const waiting = f.runtime.wait(id);
    // Let the first checks run (they learn conmon's identity), then take conmon away.
    await new Promise((r) => setTimeout(r, 700));
    process.kill(Number(readFileSync(join(f.stateDir, 'containers', id, 'conmon.pid'), 'utf8')), 'SIGKILL');
    await f.runtime.kill(id, 'SIGKILL');
    expect(await waiting).toMatchObject({ exitCode: 255, oomKilled: false });
    await f.runtime.delete(id);
    expect(leftovers(id)).toEqual([]);
  });
});

describe('create begun before its spec is complete (createEarly)', () => {
  /** A spec promise the test settles. */
  const deferred = () => {
    let settle!: { resolve(spec: ContainerSpec): void; reject(error: Error): void };
    const promise = new Promise<ContainerSpec>((resolve, reject) => (settle = { resolve, reject }));
    return { promise, ...settle };
  };

  it('holds conmon, in its own cgroup, until the spec is there; then the container is made as by create', async () => {
    const id = f.id('early');
    const spec = f.spec(id, ['sh', '-c', 'echo early']);
    const pending = deferred();
    const creating = f.runtime.createEarly({ id, logPath: spec.logPath }, pending.promise);
    await expect.poll(() => leftovers(id), { timeout: 10_000 }).toEqual(['bundle', 'conmon']);
    expect(await within(creating, 200)).toBe('pending');
    pending.resolve(spec);
    await creating;
    expect((await f.runtime.state(id))?.status).toBe('created');
    const conmonPid = readFileSync(join(f.stateDir, 'containers', id, 'conmon.pid'), 'utf8').trim();
    for (const line of readFileSync(`/proc/${conmonPid}/cgroup`, 'utf8').trim().split('\n').filter((l) => l.startsWith('0::') || l.includes(':name='))) {
      expect(line).toMatch(new RegExp(`:${f.cgroupParent}/_conmon$`));
    }
    await f.runtime.start(id);
    expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 0 });
    expect(readCriLog(spec.logPath).map((l) => l.text)).toEqual(['early']);
    await f.runtime.delete(id);
    expect(leftovers(id)).toEqual([]);
  });

  it("a spec that fails: its own error, the held conmon killed, nothing left", async () => {
    const id = f.id('early-fail');
    const pending = deferred();
    const creating = f.runtime.createEarly({ id, logPath: join(f.dir, 'logs', `${id}.log`) }, pending.promise);
    await expect.poll(() => leftovers(id), { timeout: 10_000 }).toContain('conmon');
    const cause = new Error('the root filesystem could not be mounted');
    pending.reject(cause);
    await expect(creating).rejects.toBe(cause);
    expect(leftovers(id)).toEqual([]);
    expect(await f.runtime.list()).not.toContain(id);
  });

  it("a create cut short while conmon is held (agent killed): the next runtime's delete kills the held conmon", async () => {
    const id = f.id('early-crash');
    const pending = deferred();
    const creating = f.runtime.createEarly({ id, logPath: join(f.dir, 'logs', `${id}.log`) }, pending.promise);
    await expect.poll(() => leftovers(id), { timeout: 10_000 }).toEqual(['bundle', 'conmon']);
    await expect.poll(() => existsSync(join(f.stateDir, 'containers', id, 'conmon-held.pid'))).toBe(true);
    // As a restarted agent does before it creates the container again.
    const restarted = await f.reopen();
    await restarted.delete(id);
    expect(leftovers(id)).toEqual([]);
    pending.reject(new Error('the agent is gone'));
    await expect(creating).rejects.toThrow();
    expect(leftovers(id)).toEqual([]);
  });

  it('a spec of another id or log path, or an invalid one, is refused and leaves nothing', async () => {
    const id = f.id('early-bad');
    const logPath = join(f.dir, 'logs', `${id}.log`);
    await expect(f.runtime.createEarly({ id, logPath }, Promise.resolve(f.spec(f.id('other'), ['true'])))).rejects.toThrow(InvalidContainerSpecError);
    await expect(f.runtime.createEarly({ id, logPath }, Promise.resolve(f.spec(id, ['true'], { logPath: `${logPath}.2` })))).rejects.toThrow(InvalidContainerSpecError);
    await expect(f.runtime.createEarly({ id, logPath }, Promise.resolve(f.spec(id, [], { logPath })))).rejects.toThrow('process.args must name the program to run');
    await expect(f.runtime.createEarly({ id: 'bad/id', logPath }, Promise.resolve(f.spec(id, ['true'])))).rejects.toThrow(InvalidContainerSpecError);
    expect(leftovers(id)).toEqual([]);
  });

  it('a duplicate id is refused and the first container is untouched', async () => {
    const id = f.id('early-dup');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    await expect(f.runtime.createEarly({ id, logPath: join(f.dir, 'logs', `${id}.log`) }, Promise.resolve(f.spec(id, ['true'])))).rejects.toThrow(ContainerExistsError);
    expect((await f.runtime.state(id))?.status).toBe('created');
    await f.runtime.delete(id);
  });
});

describe('conmon forked by a spawn helper (as the agent runs it)', () => {
  it('makes the same container: created, started, output logged, exit reported, monitor in its own cgroup', async () => {
    const helper = SpawnHelper.start();
    const g = await startRuntimeFixture({ spawn: helper.spawn });
    try {
      const id = g.id('helper');
      const spec = g.spec(id, ['sh', '-c', 'echo via helper; exit 4']);
      await g.runtime.create(spec);
      const conmonPid = readFileSync(join(g.stateDir, 'containers', id, 'conmon.pid'), 'utf8').trim();
      for (const line of readFileSync(`/proc/${conmonPid}/cgroup`, 'utf8').trim().split('\n').filter((l) => l.startsWith('0::') || l.includes(':name='))) {
        expect(line).toMatch(new RegExp(`:${g.cgroupParent}/_conmon$`));
      }
      await g.runtime.start(id);
      expect(await g.runtime.wait(id)).toMatchObject({ exitCode: 4 });
      expect(readCriLog(spec.logPath).map((l) => l.text)).toEqual(['via helper']);
      const error = await g.runtime.create(g.spec(g.id('helper-noexec'), ['/bin/does-not-exist'])).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/runc create failed: .*does-not-exist/);
    } finally {
      await g.cleanup();
      helper.close();
    }
  });
});

describe('delete', () => {
  it('leaves no runc state, cgroup, bundle, exit file, mount or conmon behind, and is idempotent', async () => {
    const id = f.id('del');
    await f.runtime.create(f.spec(id, ['sleep', '1000'], { resources: { memoryLimitBytes: 64 << 20, cpuShares: 256 } }));
    await f.runtime.start(id);
    expect(leftovers(id)).toEqual(expect.arrayContaining(['runc state', 'bundle', 'conmon']));
    expect(leftovers(id).filter((l) => l.startsWith('cgroup')).length).toBeGreaterThan(5);
    const waiting = f.runtime.wait(id);
    await f.runtime.delete(id);
    expect((await waiting).exitCode).toBe(137);
    expect(leftovers(id)).toEqual([]);
    await f.runtime.delete(id);
    await f.runtime.delete(f.id('never-existed'));
  });
});

describe('bad input and failures', () => {
  it('an invalid spec is refused before anything is created', async () => {
    const id = f.id('bad');
    await expect(f.runtime.create(f.spec(id, []))).rejects.toThrow(new InvalidContainerSpecError('process.args must name the program to run'));
    await expect(f.runtime.create(f.spec(id, ['true'], { rootfs: join(f.dir, 'nope') }))).rejects.toThrow(/rootfs .*nope is not a directory/);
    await expect(f.runtime.create(f.spec('bad/id', ['true']))).rejects.toThrow(InvalidContainerSpecError);
    expect(leftovers(id)).toEqual([]);
  });

  it('a missing executable fails create with runc\'s reason and leaves nothing', async () => {
    const id = f.id('noexec');
    const error = await f.runtime.create(f.spec(id, ['/bin/does-not-exist'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerCreateError);
    expect((error as Error).message).toMatch(/runc create failed: .*does-not-exist.*no such file or directory/);
    expect(leftovers(id)).toEqual([]);
    expect(await f.runtime.list()).not.toContain(id);
  });

  it('a duplicate id is refused and the first container is untouched', async () => {
    const id = f.id('dup');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    await expect(f.runtime.create(f.spec(id, ['true']))).rejects.toThrow(ContainerExistsError);
    expect((await f.runtime.state(id))?.status).toBe('created');
    await f.runtime.delete(id);
  });

  it('unknown containers: not found, no state, and unknown signals are named', async () => {
    const id = f.id('unknown');
    await expect(f.runtime.start(id)).rejects.toThrow(ContainerNotFoundError);
    await expect(f.runtime.kill(id, 'SIGTERM')).rejects.toThrow(ContainerNotFoundError);
    await expect(f.runtime.wait(id)).rejects.toThrow(ContainerNotFoundError);
    expect(await f.runtime.state(id)).toBeUndefined();
    expect(await f.runtime.stats(id)).toBeUndefined();
    await expect(f.runtime.kill(id, 'SIGNOPE' as NodeJS.Signals)).rejects.toThrow('unknown signal "SIGNOPE"');
  });

  it('a create cut short after its bundle directory was made (agent killed): delete clears it, and create works again', async () => {
    const id = f.id('half');
    mkdirSync(join(f.stateDir, 'containers', id));
    expect(await f.runtime.state(id)).toBeUndefined();
    await expect(f.runtime.create(f.spec(id, ['true']))).rejects.toThrow(ContainerExistsError);
    await f.runtime.delete(id);
    expect(leftovers(id)).toEqual([]);
    await f.run(id, ['true']);
  });

  it('a runtime without runc or conmon refuses to open, naming what is missing', async () => {
    await expect(RuncRuntime.open({ stateDir: join(f.dir, 'other'), runcPath: '/nonexistent/runc' })).rejects.toThrow(
      "runc is not executable at /nonexistent/runc (install Debian's runc package or configure runcPath)",
    );
    await expect(RuncRuntime.open({ stateDir: join(f.dir, 'other'), conmonPath: '/nonexistent/conmon' })).rejects.toThrow(/conmon is not executable/);
    await expect(RuncRuntime.open({ stateDir: 'relative' })).rejects.toThrow(/stateDir must be an absolute path/);
  });

  it('logs go where asked, creating the directory', async () => {
    const id = f.id('logdir');
    const logPath = join(f.dir, 'deep', 'er', `${id}.log`);
    await f.run(id, ['echo', 'hello'], { logPath });
    expect(readCriLog(logPath).map((l) => l.text)).toEqual(['hello']);
    expect(readdirSync(join(f.dir, 'deep', 'er'))).toEqual([`${id}.log`]);
  });
});
