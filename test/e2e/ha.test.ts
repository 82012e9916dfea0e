import { execFileSync } from 'node:child_process';
import {
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaLab, type HaLab } from './support/ha-lab.js';

/**
 * Issue 10's failure tests on real parts: a 3-member etcd, three `berth server --store etcd` processes each on
 * a simulated host of its own (network namespace), two real agents given every replica, real containers.
 * One lab for the whole file (each test leaves three live replicas behind); the tests run in order.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SERVICE = 'web';

/** Every task of `service` the API still knows (desired RUNNING or STOPPED). */
async function serviceTasks(ecs: ECSClient, service: string): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    arns.push(...((await ecs.send(new ListTasksCommand({ serviceName: service, desiredStatus }))).taskArns ?? []));
  }
  return arns.length ? ((await ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks ?? []) : [];
}

/** The keys under `prefix` as etcd has them: key, create revision, value (JSON). */
function etcdEntries(lab: HaLab, prefix: string): { key: string; createRevision: number; value: unknown }[] {
  const out = JSON.parse(lab.etcdctl('get', '--prefix', prefix, '-w', 'json')) as { kvs?: { key: string; create_revision: number; value: string }[] };
  return (out.kvs ?? []).map((kv) => ({
    key: Buffer.from(kv.key, 'base64').toString(),
    createRevision: kv.create_revision,
    value: JSON.parse(Buffer.from(kv.value, 'base64').toString()) as unknown,
  }));
}

describe('berth on etcd under failures: 3 etcd members, 3 replicas in namespaces, 2 agents', () => {
  let lab: HaLab;

  /** Wait until the service has exactly `n` tasks RUNNING and desired RUNNING (through any live replica). */
  async function converged(n = 3, timeoutMs = 60_000): Promise<Task[]> {
    const deadline = Date.now() + timeoutMs;
    let live: Task[] = [];
    while (Date.now() < deadline) {
      live = (await serviceTasks(lab.ecs(), SERVICE).catch(() => [])).filter((t) => t.desiredStatus === 'RUNNING');
      if (live.length === n && live.every((t) => t.lastStatus === 'RUNNING')) return live;
      await sleep(200);
    }
    throw new Error(`service ${SERVICE} did not converge to ${n} running tasks: ${JSON.stringify(live.map((t) => [t.taskArn, t.lastStatus]))}`);
  }

  beforeAll(async () => {
    lab = await startHaLab();
    const ecs = lab.ecs();
    const container = { name: 'app', image: lab.image, memory: 16 };
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'sleeper', networkMode: 'none', containerDefinitions: [container] }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'quick', networkMode: 'none', containerDefinitions: [{ ...container, memory: 8, command: ['true'] }] }));
    await ecs.send(new CreateServiceCommand({ serviceName: SERVICE, taskDefinition: 'sleeper', desiredCount: 3 }));
    await converged();
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  }, 120_000);

  it('kill -9 of the etcd raft leader (one of three members): every replica keeps answering within its deadline and RunTask works', async () => {
    const member = await lab.etcd.leader();
    await lab.etcd.kill(member);
    const killedAt = Date.now();
    try {
      const answers = await Promise.all(
        lab.replicas.map(async (r) => {
          const started = Date.now();
          const { taskArns } = await r.ecs.send(new ListTasksCommand({ serviceName: SERVICE }));
          const { tasks, failures } = await r.ecs.send(new RunTaskCommand({ taskDefinition: 'quick', startedBy: `etcd-kill-${r.id}` }));
          expect(failures).toEqual([]);
          expect(taskArns).toHaveLength(3);
          return { replica: r.id, ms: Date.now() - started, task: tasks![0]!.taskArn! };
        }),
      );
      // A store call gives up after 5 s; both calls together within that is "within their deadline".
      for (const a of answers) expect(a.ms).toBeLessThan(5_000);
      for (const a of answers) {
        const t = await lab.waitForTask(a.task, (x) => x.lastStatus === 'STOPPED');
        expect(t.containers![0]!.exitCode).toBe(0);
      }
      for (const r of lab.replicas) expect(await lab.health(r.index)).toMatchObject({ store: 'ok' });
      await lab.leader();
      console.log(JSON.stringify({ etcdMemberKilled: lab.etcd.members[member]!.name, answersMs: answers.map((a) => [a.replica, a.ms]), allDoneMs: Date.now() - killedAt }));
    } finally {
      await lab.etcd.restart(member);
    }
  });
});
