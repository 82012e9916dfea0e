import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerExistsError, ContainerNotFoundError, InvalidContainerSpecError } from './errors.js';
import type { ContainerSpec, RootfsOverlay, Runtime } from './runtime.js';

/** What the shared suite needs from one Runtime implementation. */
export interface RuntimeHarness {
  readonly runtime: Runtime;
  /** A container id unique on the host. */
  id(name: string): string;
  /** A spec whose process runs `args`: the suite only uses `sleep 1000` and `sh -c 'exit N'`. */
  spec(id: string, args: readonly string[]): ContainerSpec;
  /**
   * A root given as an overlay for `id` (Runtime.mountsRootfsOverlay): an empty directory, and the harness's
   * root filesystem as the one lower layer over fresh upper and work directories.
   */
  overlayRoot(id: string): { readonly rootfs: string; readonly rootfsOverlay: RootfsOverlay };
  /** A second runtime on the same host state, as a restarted agent opens it. */
  reopen(): Promise<Runtime>;
  /** Remove everything the harness made. */
  cleanup(): Promise<void>;
}

const SLEEP = ['sleep', '1000'];
const exitWith = (code: number) => ['sh', '-c', `exit ${code}`];

/** Resolves with the promise's value, or 'pending' if it has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

/**
 * One suite every {@link Runtime} passes (runc, and the fake the engine's unit tests use), so that what the
 * task engine relies on — lifecycle, exit codes, errors for missing containers, re-adoption after an agent
 * restart — holds for each, and a fake cannot drift from the real thing unnoticed.
 */
export function runtimeConformance(name: string, open: () => Promise<RuntimeHarness>): void {
  describe(`Runtime conformance: ${name}`, () => {
    let h: RuntimeHarness;
    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('create → created, start → running, listed, with labels kept; delete → gone', async () => {
      const id = h.id('life');
      await h.runtime.create({ ...h.spec(id, SLEEP), labels: { 'com.example': 'x' } });
      expect(await h.runtime.state(id)).toMatchObject({ status: 'created', labels: { 'com.example': 'x' } });
      const { pid } = await h.runtime.start(id);
      expect(pid).toBeGreaterThan(0);
      expect(await h.runtime.state(id)).toMatchObject({ status: 'running' });
      expect(await h.runtime.list()).toContain(id);
      await h.runtime.delete(id);
      expect(await h.runtime.state(id)).toBeUndefined();
      expect(await h.runtime.list()).not.toContain(id);
    });

    it("a process's own exit code is its exit status, and wait() answers again once it stopped", async () => {
      const id = h.id('exit');
      await h.runtime.create(h.spec(id, exitWith(3)));
      await h.runtime.start(id);
      const exit = await h.runtime.wait(id);
      expect(exit).toMatchObject({ exitCode: 3, oomKilled: false });
      expect(exit.exitedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(await h.runtime.wait(id)).toEqual(exit);
      expect(await h.runtime.state(id)).toMatchObject({ status: 'stopped', exit });
      await h.runtime.delete(id);
    });

    it('SIGKILL ends a running container with 137, and a created one before it starts', async () => {
      const running = h.id('kill');
      await h.runtime.create(h.spec(running, SLEEP));
      await h.runtime.start(running);
      expect(await within(h.runtime.wait(running), 200)).toBe('pending');
      await h.runtime.kill(running, 'SIGKILL');
      expect((await h.runtime.wait(running)).exitCode).toBe(137);
      // A stopped container is not an error to signal.
      await h.runtime.kill(running, 'SIGKILL');
      const created = h.id('kill-created');
      await h.runtime.create(h.spec(created, SLEEP));
      await h.runtime.kill(created, 'SIGKILL');
      expect((await h.runtime.wait(created)).exitCode).toBe(137);
      await Promise.all([h.runtime.delete(running), h.runtime.delete(created)]);
    });

    it('exec runs in the running container and returns the exit code', async () => {
      const id = h.id('exec');
      await h.runtime.create(h.spec(id, SLEEP));
      await h.runtime.start(id);
      expect(await h.runtime.exec(id, exitWith(0), { timeoutMs: 5_000 })).toEqual({ exitCode: 0, timedOut: false });
      expect(await h.runtime.exec(id, exitWith(4), { timeoutMs: 5_000 })).toEqual({ exitCode: 4, timedOut: false });
      await h.runtime.delete(id);
    });

    it('delete kills a running container (its waiter gets 137) and is idempotent', async () => {
      const id = h.id('del');
      await h.runtime.create(h.spec(id, SLEEP));
      await h.runtime.start(id);
      const waiting = h.runtime.wait(id);
      await h.runtime.delete(id);
      expect((await waiting).exitCode).toBe(137);
      await h.runtime.delete(id);
      await h.runtime.delete(h.id('never-existed'));
    });

    it('missing containers: start, kill, wait and exec throw ContainerNotFoundError; state is undefined', async () => {
      const id = h.id('missing');
      await expect(h.runtime.start(id)).rejects.toThrow(ContainerNotFoundError);
      await expect(h.runtime.kill(id, 'SIGTERM')).rejects.toThrow(ContainerNotFoundError);
      await expect(h.runtime.kill(id, 'SIGKILL')).rejects.toThrow(ContainerNotFoundError);
      await expect(h.runtime.wait(id)).rejects.toThrow(ContainerNotFoundError);
      await expect(h.runtime.exec(id, exitWith(0), { timeoutMs: 1_000 })).rejects.toThrow(ContainerNotFoundError);
      expect(await h.runtime.state(id)).toBeUndefined();
    });

    it('a duplicate id is refused with ContainerExistsError and the first container is untouched', async () => {
      const id = h.id('dup');
      await h.runtime.create(h.spec(id, SLEEP));
      await expect(h.runtime.create(h.spec(id, exitWith(0)))).rejects.toThrow(ContainerExistsError);
      expect((await h.runtime.state(id))?.status).toBe('created');
      await h.runtime.delete(id);
    });

    it('a root given as an overlay is mounted inside the container only, or refused with nothing made', async () => {
      const id = h.id('overlay-root');
      const root = h.overlayRoot(id);
      const spec = { ...h.spec(id, ['sh', '-c', 'test -x /bin/sh && echo seen > /written-inside']), ...root };
      if (!h.runtime.mountsRootfsOverlay) {
        await expect(h.runtime.create(spec)).rejects.toThrow(InvalidContainerSpecError);
        expect(await h.runtime.state(id)).toBeUndefined();
        return;
      }
      await h.runtime.create(spec);
      // Nothing on the host: the mount lives in the container's own mount namespace.
      const mountPoints = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]);
      expect(mountPoints).not.toContain(root.rootfs);
      await h.runtime.start(id);
      // The lower layer's files are seen (exit 0), the container's writes land in the upper directory.
      expect((await h.runtime.wait(id)).exitCode).toBe(0);
      expect(await readFile(join(root.rootfsOverlay.upperdir, 'written-inside'), 'utf8')).toBe('seen\n');
      await h.runtime.delete(id);
    });

    it('after a restart, a new runtime sees running containers and exits that happened, and controls them', async () => {
      const running = h.id('recover-run');
      const exited = h.id('recover-exit');
      await h.runtime.create(h.spec(running, SLEEP));
      await h.runtime.start(running);
      await h.runtime.create(h.spec(exited, exitWith(7)));
      await h.runtime.start(exited);
      await h.runtime.wait(exited);
      const again = await h.reopen();
      expect(await again.list()).toEqual(expect.arrayContaining([running, exited]));
      expect(await again.state(running)).toMatchObject({ status: 'running' });
      expect(await again.state(exited)).toMatchObject({ status: 'stopped', exit: { exitCode: 7 } });
      expect((await again.wait(exited)).exitCode).toBe(7);
      const waiting = again.wait(running);
      await again.kill(running, 'SIGKILL');
      expect((await waiting).exitCode).toBe(137);
      await again.delete(running);
      await again.delete(exited);
      expect(await h.runtime.state(running)).toBeUndefined();
    });
  });
}

