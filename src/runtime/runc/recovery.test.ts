import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRuntimeFixture, waitForLog, type RuntimeFixture } from '../../testing/runtime-fixture.js';

const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));
const runtimeModule = fileURLToPath(new URL('./runc-runtime.ts', import.meta.url));

/**
 * A stand-in for the agent: a separate Node process that opens the runtime (TypeScript loaded through
 * Vite's module runner), creates and starts the containers, prints their pids and then idles until killed.
 */
const AGENT = `
import { runnerImport } from 'vite';
const [modulePath, options, specs] = process.argv.slice(1);
const { module } = await runnerImport(modulePath);
const runtime = await module.RuncRuntime.open(JSON.parse(options));
const pids = [];
for (const spec of JSON.parse(specs)) {
  await runtime.create(spec);
  pids.push((await runtime.start(spec.id)).pid);
}
console.log(JSON.stringify(pids));
setInterval(() => {}, 60_000);
`;

let f: RuntimeFixture;
beforeAll(async () => {
  f = await startRuntimeFixture();
});
afterAll(async () => {
  await f?.cleanup();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('containers outlive a kill -9 of the agent; a new runtime re-adopts them and reports exits from while it was away', async () => {
  const away = f.id('away');
  const back = f.id('back');
  // Each exits (7 and 9) once the test creates /tmp/<id> in the shared rootfs.
  const waitForFile = (id: string, code: number) => ['sh', '-c', `while [ ! -e /tmp/${id} ]; do sleep 0.05; done; exit ${code}`];
  const specs = [f.spec(away, waitForFile(away, 7), { labels: { name: 'away' } }), f.spec(back, waitForFile(back, 9), { labels: { name: 'back' } })];

  const agent = spawn(process.execPath, ['--input-type=module', '-e', AGENT, runtimeModule, JSON.stringify({ stateDir: f.stateDir, cgroupParent: f.cgroupParent }), JSON.stringify(specs)], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = once(agent, 'exit');
  const [line] = (await Promise.race([once(createInterface({ input: agent.stdout! }), 'line'), exited.then(() => { throw new Error('the agent process exited early'); })])) as [string];
  const [awayPid, backPid] = JSON.parse(line) as [number, number];

  // SIGKILL to the agent's whole process group, as a terminal or service manager would send it.
  process.kill(-agent.pid!, 'SIGKILL');
  await exited;
  expect(alive(awayPid) && alive(backPid)).toBe(true);

  // One container exits while no agent runs at all.
  writeFileSync(join(f.rootfs, 'tmp', away), '');
  await until(() => !alive(awayPid), 'the first container has exited');

  const restarted = await f.reopen();
  expect(await restarted.list()).toEqual(expect.arrayContaining([away, back]));
  expect(await restarted.state(away)).toMatchObject({ status: 'stopped', exit: { exitCode: 7, oomKilled: false }, labels: { name: 'away' } });
  expect(await restarted.wait(away)).toMatchObject({ exitCode: 7 });
  // The other was adopted as it was, not restarted: same pid, still running.
  expect(await restarted.state(back)).toEqual({ status: 'running', pid: backPid, labels: { name: 'back' } });

  const waiting = restarted.wait(back);
  writeFileSync(join(f.rootfs, 'tmp', back), '');
  expect(await waiting).toMatchObject({ exitCode: 9, oomKilled: false });
  expect(await restarted.state(back)).toMatchObject({ status: 'stopped', exit: { exitCode: 9 } });

  await restarted.delete(away);
  await restarted.delete(back);
  expect((await restarted.list()).filter((id) => id === away || id === back)).toEqual([]);
}, 60_000);

/**
 * What an agent killed in the middle of a start leaves: it opened the container's exec FIFO and read the
 * init's byte (the init then runs the container's process) but died before removing the FIFO, so runc
 * still calls the container created and `runc start` would wait for ever. (This stalled a task PENDING
 * after an agent kill -9 while its container ran.)
 */
function startCutShort(stateDir: string, id: string): void {
  const fd = openSync(join(stateDir, 'runc', id, 'exec.fifo'), constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buffer = Buffer.alloc(16);
    for (const deadline = Date.now() + 10_000; ; ) {
      let n = 0;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n > 0) return;
      if (Date.now() > deadline) throw new Error('the init never wrote its byte');
    }
  } finally {
    closeSync(fd);
  }
}

it('a start cut short after the init was released: the restarted runtime sees the container running and start() does not hang', async () => {
  const seen = f.id('seen');
  const retried = f.id('retried');
  for (const id of [seen, retried]) {
    const spec = f.spec(id, ['sh', '-c', 'echo up; exec sleep 60']);
    await f.runtime.create(spec);
    startCutShort(f.stateDir, id);
    await waitForLog(spec.logPath, 'up');
  }
  const restarted = await f.reopen();
  // Recovery asks the state: running, as it is.
  expect(await restarted.state(seen)).toMatchObject({ status: 'running' });
  // A start retried on the other: done at once instead of `runc start` blocking for ever.
  const outcome = await Promise.race([restarted.start(retried).then(() => 'started'), new Promise((r) => setTimeout(() => r('still waiting'), 10_000))]);
  expect(outcome).toBe('started');
  expect(await restarted.state(retried)).toMatchObject({ status: 'running' });
  // A created container whose start was never attempted stays created, and starts.
  const fresh = f.id('fresh');
  await restarted.create(f.spec(fresh, ['sleep', '60']));
  expect(await restarted.state(fresh)).toMatchObject({ status: 'created' });
  await restarted.start(fresh);
  expect(await restarted.state(fresh)).toMatchObject({ status: 'running' });
  for (const id of [seen, retried, fresh]) await restarted.delete(id);
}, 60_000);
