import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntimeFixture, type RuntimeFixture } from '../../testing/runtime-fixture.js';
import { InvalidContainerSpecError } from '../errors.js';
import { DOCKER_DEFAULT_CAPABILITIES, capabilityMask } from '../runc/capabilities.js';
import { openRunscRuntime } from './runsc-runtime.js';

// Real gVisor sandboxes: root, runsc and conmon are needed (the fixture fails loudly without them).
let f: RuntimeFixture;
beforeAll(async () => {
  f = await startRuntimeFixture({}, openRunscRuntime);
});
afterAll(async () => {
  await f?.cleanup();
});

/** An HTTP server answering with the client's address; prints a line once listening. */
const SERVER = `require('http').createServer((q, r) => r.end('hello ' + q.socket.remoteAddress)).listen(8080, '10.213.7.1', () => console.log('up'))`;

async function sh(name: string, script: string, overrides: Parameters<RuntimeFixture['spec']>[2] = {}) {
  const { exit, stdout } = await f.run(f.id(name), ['sh', '-c', script], overrides);
  return { exit, out: stdout };
}

describe('runsc: each container has its own application kernel', () => {
  it("the kernel identifies itself as gVisor, not as the host's kernel", async () => {
    const { exit, out } = await sh('kernel', 'busybox dmesg; echo ---; cat /proc/version; echo ---; test -e /proc/sentry-meminfo && echo sentry');
    expect(exit.exitCode).toBe(0);
    const [dmesg, version, sentry] = out.split('---\n').map((s) => s.trim());
    // The Sentry's own boot log (under runc: the host's, or nothing without CAP_SYSLOG).
    expect(dmesg).toMatch(/^\[ *0\.0+\] Starting gVisor\.\.\./);
    // Under runc a container reads the host kernel's version: it is the same kernel.
    expect(version).toMatch(/^Linux version /);
    expect(version).not.toBe(readFileSync('/proc/version', 'utf8').trim());
    // A file only gVisor's /proc has.
    expect(sentry).toBe('sentry');
  });

  it("the host's /proc is not its own: only the sandbox's processes, none of the host's mounts", async () => {
    const script = `ls /proc | grep -c "^[0-9]"; echo ---; cat /proc/mounts; echo ---; test -e /proc/${process.pid} && echo visible || echo absent`;
    const { exit, out } = await sh('proc', script);
    expect(exit.exitCode).toBe(0);
    const [count, mounts, own] = out.split('---\n').map((s) => s.trim());
    expect(Number(count)).toBeLessThan(5);
    expect(own).toBe('absent');
    // The root is served by the gofer over 9p (not the host's overlay mount), and no host cgroup hierarchy is mounted.
    expect(mounts).toMatch(/^none \/ 9p /m);
    expect(mounts).not.toMatch(/cgroup/);
  });

  it('a container allocating beyond its memory limit is killed, as an OOM kill (137, oomKilled)', async () => {
    const id = f.id('oom');
    await f.runtime.create(f.spec(id, ['tail', '/dev/zero'], { resources: { memoryLimitBytes: 64 << 20 } }));
    try {
      await f.runtime.start(id);
      expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 137, oomKilled: true });
    } finally {
      await f.runtime.delete(id);
    }
  });

  it('a container within its limit is not oomKilled when killed', async () => {
    const id = f.id('notoom');
    await f.runtime.create(f.spec(id, ['sleep', '1000'], { resources: { memoryLimitBytes: 64 << 20 } }));
    await f.runtime.start(id);
    await f.runtime.kill(id, 'SIGKILL');
    expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 137, oomKilled: false });
    await f.runtime.delete(id);
  });

  it("host networking is refused (awsvpc only), and nothing is left of the refused container", async () => {
    const id = f.id('hostnet');
    await expect(f.runtime.create(f.spec(id, ['true'], { network: 'host' }))).rejects.toThrow(InvalidContainerSpecError);
    expect(await f.runtime.state(id)).toBeUndefined();
  });
});

describe('runsc: opening', () => {
  it("fails loudly without runsc, naming Debian's package", async () => {
    await expect(openRunscRuntime({ stateDir: join(f.dir, 'no-runsc'), runcPath: '/nonexistent/runsc' })).rejects.toThrow(
      "runsc is not executable at /nonexistent/runsc (install Debian's runsc package or configure runcPath)",
    );
  });
});

describe('runsc: what differs from runc', () => {
  const capEff = async (name: string, overrides: Parameters<RuntimeFixture['spec']>[2] = {}) => {
    const { exit, out } = await sh(name, 'grep ^CapEff: /proc/self/status | cut -f2', overrides);
    expect(exit.exitCode).toBe(0);
    return out;
  };

  it("Docker's capabilities but NET_RAW (gVisor disables raw sockets); a non-root user holds none, as under runc", async () => {
    expect(await capEff('caps')).toBe(capabilityMask(DOCKER_DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW')));
    expect(await capEff('caps-nonroot', { process: { uid: 65534, gid: 65534 } })).toBe('0000000000000000');
  });

  it('privileged containers are refused', async () => {
    const id = f.id('priv');
    await expect(f.runtime.create(f.spec(id, ['true'], { privileged: true }))).rejects.toThrow(/privileged containers are not available under gVisor/);
    expect(await f.runtime.state(id)).toBeUndefined();
  });

  it("joins the given network namespace: gVisor's network stack takes its interface and address and carries traffic (awsvpc)", async () => {
    // The task's namespace, a veth to a second namespace standing for the bridge side, and a server there.
    const ns = `berth-${f.id('ns')}`;
    const peer = `berth-${f.id('peer')}`;
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'add', peer]);
    let server: ChildProcess | undefined;
    try {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', peer]);
      execFileSync('ip', ['-n', ns, 'addr', 'add', '10.213.7.9/24', 'dev', 'eth0']);
      execFileSync('ip', ['-n', peer, 'addr', 'add', '10.213.7.1/24', 'dev', 'eth1']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      execFileSync('ip', ['-n', peer, 'link', 'set', 'eth1', 'up']);
      server = spawn('ip', ['netns', 'exec', peer, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        server!.stdout!.once('data', () => resolve());
        server!.once('exit', (code) => reject(new Error(`the server in ${peer} exited (${code})`)));
      });
      const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 10 10.213.7.1 8080 | tr -d '\\r' | tail -n 1`;
      const { exit, out } = await sh('netjoin', `ip -4 -o addr show; ${request}`, { network: `/var/run/netns/${ns}` });
      expect(exit.exitCode).toBe(0);
      expect(out).toMatch(/eth0\s+inet 10\.213\.7\.9\/24/);
      // The server saw the container's own address.
      expect(out).toMatch(/hello 10\.213\.7\.9$/);
      // gVisor's stack, not the host kernel's, held it: runsc takes the address off the host's interface.
      expect(execFileSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' })).not.toMatch(/10\.213\.7\.9/);
    } finally {
      server?.kill('SIGKILL');
      execFileSync('ip', ['netns', 'del', ns]);
      execFileSync('ip', ['netns', 'del', peer]);
    }
  });
});

describe('runsc: exec', () => {
  it("runs with the container's user and environment", async () => {
    const id = f.id('exec-user');
    await f.runtime.create(f.spec(id, ['sleep', '1000'], { process: { uid: 65534, gid: 65534, env: ['PATH=/bin', 'FOO=bar'] } }));
    try {
      await f.runtime.start(id);
      const check = ['sh', '-c', 'test "$(id -u):$(id -g)" = 65534:65534 && test "$FOO" = bar'];
      expect(await f.runtime.exec(id, check, { timeoutMs: 5_000 })).toEqual({ exitCode: 0, timedOut: false });
    } finally {
      await f.runtime.delete(id);
    }
  });

  it('a timed-out exec is killed inside the sandbox, not only its runsc client', async () => {
    const id = f.id('exec-timeout');
    await f.runtime.create(f.spec(id, ['sleep', '1000']));
    try {
      await f.runtime.start(id);
      expect(await f.runtime.exec(id, ['sleep', '999'], { timeoutMs: 500 })).toMatchObject({ timedOut: true });
      const leftover = ['sh', '-c', 'ps -o args | grep -q "^sleep 999"'];
      for (const deadline = Date.now() + 10_000; ; ) {
        if ((await f.runtime.exec(id, leftover, { timeoutMs: 5_000 })).exitCode === 1) break;
        if (Date.now() > deadline) throw new Error('the timed-out command still runs in the sandbox after 10 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await f.runtime.delete(id);
    }
  });
});

describe('runsc: createEarly', () => {
  it("the agent's create path (conmon started and held, then released with the spec) runs the container", async () => {
    const id = f.id('early');
    const spec = f.spec(id, ['sh', '-c', 'exit 5']);
    let complete!: (s: typeof spec) => void;
    const creating = f.runtime.createEarly!({ id, logPath: spec.logPath }, new Promise((r) => (complete = r)));
    complete(spec);
    await creating;
    try {
      await f.runtime.start(id);
      expect(await f.runtime.wait(id)).toMatchObject({ exitCode: 5, oomKilled: false });
    } finally {
      await f.runtime.delete(id);
    }
  });
});
