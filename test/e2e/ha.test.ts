import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaLab, type HaLab } from './support/ha-lab.js';
import { schedulerClient } from './support/scheduler-client.js';

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

/** What runc says of a container: its status and its init process. */
function runcState(root: string, id: string): { status: string; pid: number } {
  const { status, pid } = JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string; pid: number };
  return { status, pid };
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
  it('a leader cut off from etcd (iptables in its namespace) steps down before another takes over; healed, it follows, and no task planned in its term appears after the new election', async () => {
    const old = await lab.leader();
    const others = lab.replicas.filter((r) => r.index !== old);
    const netns = lab.replicas[old]!.netns;
    // Its requests to every etcd member are dropped where it runs (what etcd sends still arrives: a one-way cut,
    // so the old leader still sees changes and may try to act on them while it believes it leads).
    const rules = lab.etcd.members.map((m) => ['OUTPUT', '-p', 'tcp', '-d', lab.lab.gateway, '--dport', String(m.clientPort), '-j', 'DROP']);
    const iptables = (op: '-A' | '-D', rule: string[]) => execFileSync('ip', ['netns', 'exec', netns, 'iptables', op, ...rule], { stdio: ['ignore', 'ignore', 'pipe'] });
    let cut = false;
    const heal = () => {
      if (!cut) return;
      cut = false;
      for (const rule of rules) iptables('-D', rule);
    };
    try {
      for (const rule of rules) iptables('-A', rule);
      cut = true;
      const cutAt = Date.now();

      // The old leader's /healthz waits up to 2 s for the store before answering, so it is asked every 100 ms
      // without waiting: an answer tells the role when it was sent back, and one comes back every ~100 ms.
      let stepDownBy: number | undefined;
      const asking: Promise<void>[] = [];
      // The others answer at once: "follower" sent at t means nobody had taken over at t.
      let lastFollowerSentAt = cutAt;
      let takeoverSeenAt: number | undefined;
      let next: number | undefined;
      const deadline = cutAt + 20_000;
      let stopAt: number | undefined;
      let stopped: string | undefined;
      const before = (await serviceTasks(others[0]!.ecs, SERVICE)).filter((t) => t.desiredStatus === 'RUNNING');
      while ((stepDownBy === undefined || takeoverSeenAt === undefined) && Date.now() < deadline) {
        asking.push(
          lab.health(old, 10_000).then((h) => {
            if (h?.role === 'follower' && stepDownBy === undefined) stepDownBy = Date.now();
          }),
        );
        if (takeoverSeenAt === undefined) {
          const sentAt = Date.now();
          const seen = await Promise.all(others.map((r) => lab.health(r.index, 1_000)));
          const leading = seen.findIndex((h) => h?.role === 'leader');
          if (leading >= 0) {
            takeoverSeenAt = Date.now();
            next = others[leading]!.index;
            heal();
          } else if (seen.every((h) => h?.role === 'follower')) lastFollowerSentAt = sentAt;
        }
        // While the old leader still leads, give its controllers something to do: a service task stops (through
        // another replica). Its replacement, planned by the old leader, is sent into the cut.
        if (stopAt === undefined && Date.now() - cutAt >= 1_500) {
          stopAt = Date.now();
          stopped = before[0]!.taskArn!;
          await others[0]!.ecs.send(new StopTaskCommand({ task: stopped, reason: 'fencing test' }));
        }
        await sleep(50);
      }
      await Promise.all(asking);
      heal();
      expect(stepDownBy, 'the cut-off leader never said follower').toBeDefined();
      expect(takeoverSeenAt, 'no other replica took over').toBeDefined();
      const leaderKey = etcdEntries(lab, 'berth/leader')[0]!;
      const term = leaderKey.value as { replica: string; since: number };
      expect(term.replica).toBe(lab.replicas[next!]!.id);
      // The new leader campaigned at `since` (its clock, this machine's): it cannot have taken over before then.
      const takeoverAfter = Math.max(lastFollowerSentAt, term.since);
      console.log(
        JSON.stringify({
          cutOff: lab.replicas[old]!.id,
          newLeader: term.replica,
          stepDownByMs: stepDownBy! - cutAt,
          takeoverAfterMs: takeoverAfter - cutAt,
          takeoverSeenMs: takeoverSeenAt! - cutAt,
          marginMs: takeoverAfter - stepDownBy!,
        }),
      );
      expect(stepDownBy!).toBeLessThanOrEqual(takeoverAfter);

      // Healed: the old leader is a follower with a working store, and the one leader is the new one.
      await expect.poll(async () => lab.health(old), { timeout: 15_000, interval: 100 }).toMatchObject({ role: 'follower', store: 'ok' });
      expect(await lab.leader()).toBe(next);
      await converged();
      // The old leader's write sent into the cut had a 5 s deadline: past it, nothing of that term can still land.
      await expect.poll(() => Date.now(), { timeout: 15_000 }).toBeGreaterThan(stopAt! + 6_000);
      // No late write of the old term: every task created after the new leader's election was planned by the new
      // leader (it cannot have planned one before it campaigned). A replacement planned by the old leader and
      // delivered once the cut healed would show up here with an earlier createdAt.
      // What this does NOT prove: that etcd refuses a deposed leader's txn (the fence compare). Cut off, the old
      // leader cannot even read, so it plans nothing, and it closes its fence locally before its lease can end;
      // every controller write is also a compare-and-swap on records the new leader rewrites at once. Run with
      // the fence compare removed from store/fenced.ts, this test still passes: the etcd-side refusal is covered
      // by store/fenced.test.ts and server/replicas.test.ts, not here.
      const late = etcdEntries(lab, 'berth/tasks/').filter((e) => e.createRevision > leaderKey.createRevision);
      const planned = late.map((e) => ({ key: e.key, createdAtMs: ((e.value as { task: { createdAt: number } }).task.createdAt) * 1_000 }));
      console.log(JSON.stringify({ tasksCreatedAfterElection: planned.map((p) => ({ ...p, relativeToSinceMs: Math.round(p.createdAtMs - term.since) })) }));
      for (const p of planned) expect(p.createdAtMs).toBeGreaterThanOrEqual(term.since);
      expect(planned.length).toBeGreaterThanOrEqual(1);
    } finally {
      heal();
    }
  });
  it('kill -9 of the leading replica during 200 RunTask calls spread over all replicas: every acknowledged task exists exactly once, the service converges, controllers resume within 10 s', async () => {
    const old = await lab.leader();
    const group = 'burst';
    const CALLS = 200;
    const IN_FLIGHT = 12;
    const acknowledged = new Map<number, string>();
    const refused: { call: number; failures: unknown }[] = [];
    let failovers = 0;
    let killedAt: number | undefined;
    let killing: Promise<void> | undefined;

    /** One logical RunTask: its replica by turn, then the next ones on a connection error or 5xx, same clientToken. */
    async function runTask(call: number): Promise<void> {
      const clientToken = `burst-${call}-${Math.random().toString(36).slice(2, 10)}`;
      for (let attempt = 0; ; attempt++) {
        const replica = lab.replicas[(call + attempt) % lab.replicas.length]!;
        try {
          const { tasks, failures } = await replica.ecs.send(
            new RunTaskCommand({ taskDefinition: 'quick', group, startedBy: `burst-${call}`, clientToken }),
          );
          if (tasks?.[0]?.taskArn) acknowledged.set(call, tasks[0].taskArn);
          else refused.push({ call, failures });
          return;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if ((status !== undefined && status < 500) || attempt >= 8) throw error;
          failovers++;
          await sleep(50 * attempt);
        }
      }
    }

    let nextCall = 0;
    const worker = async () => {
      while (nextCall < CALLS) {
        const call = nextCall++;
        await runTask(call);
        // A third of the way in, the leader dies (kill -9), with calls in flight on every replica.
        if (!killing && acknowledged.size >= CALLS / 3) {
          killing = lab.killReplica(old).then(() => {
            killedAt = Date.now();
          });
        }
      }
    };
    const before = new Set((await serviceTasks(lab.ecs([old]), SERVICE)).map((t) => t.taskArn!));
    const burst = Promise.all(Array.from({ length: IN_FLIGHT }, worker));

    // Right after the kill a service task stops (through a survivor): its replacement is the new leader's
    // controllers at work. Measured from the kill to the replacement's creation.
    await expect.poll(() => killedAt, { timeout: 60_000, interval: 20 }).toBeDefined();
    const survivor = lab.ecs([old]);
    const victim = [...before][0]!;
    await survivor.send(new StopTaskCommand({ task: victim, reason: 'controllers resume after failover' }));
    let replacedAt: number | undefined;
    while (replacedAt === undefined && Date.now() - killedAt! < 30_000) {
      const { taskArns = [] } = await survivor.send(new ListTasksCommand({ serviceName: SERVICE, desiredStatus: 'RUNNING' }));
      if (taskArns.some((a) => !before.has(a))) replacedAt = Date.now();
      else await sleep(50);
    }
    const burstFinished = await burst.then(() => Date.now());
    const resumeMs = replacedAt === undefined ? undefined : replacedAt - killedAt!;
    const newLeader = await lab.leader();

    // Every task of the burst, read through a survivor: each logical call has at most one, each acknowledged one
    // exactly one, and it is the very task acknowledged.
    // A set: a task stopping between the two listings is in both.
    const listed = new Set<string>();
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await survivor.send(new ListTasksCommand({ desiredStatus, ...(nextToken ? { nextToken } : {}) }));
        for (const arn of page.taskArns ?? []) listed.add(arn);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const arns = [...listed];
    const tasks: Task[] = [];
    for (let i = 0; i < arns.length; i += 100) tasks.push(...((await survivor.send(new DescribeTasksCommand({ tasks: arns.slice(i, i + 100) }))).tasks ?? []));
    const ofBurst = tasks.filter((t) => t.group === group);
    const byCall = new Map<string, string[]>();
    for (const t of ofBurst) byCall.set(t.startedBy!, [...(byCall.get(t.startedBy!) ?? []), t.taskArn!]);
    const duplicated = [...byCall].filter(([, a]) => a.length > 1);
    const missing = [...acknowledged].filter(([call, arn]) => !byCall.get(`burst-${call}`)?.includes(arn));
    console.log(
      JSON.stringify({
        killed: lab.replicas[old]!.id,
        newLeader: lab.replicas[newLeader]!.id,
        acknowledged: acknowledged.size,
        refused: refused.length,
        failovers,
        tasksOfBurst: ofBurst.length,
        duplicated: duplicated.length,
        missing: missing.length,
        controllersResumedMs: resumeMs,
        burstAfterKillMs: burstFinished - killedAt!,
      }),
    );
    expect(refused).toEqual([]);
    expect(acknowledged.size).toBe(CALLS);
    expect(failovers).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(ofBurst).toHaveLength(CALLS);
    expect(resumeMs, 'no replacement for the stopped service task within 30 s').toBeDefined();
    expect(resumeMs!).toBeLessThan(10_000);

    await converged();
    await lab.restartReplica(old);
  });
  it('an agent whose replica is killed reconnects to another within 10 s; its containers keep running, and an exit meanwhile is reported', async () => {
    const agent = lab.agents[0]!;
    const root = join(agent.dataDir, 'runtime', 'runc');
    const start = async () => {
      const { tasks, failures } = await lab.ecs().send(new StartTaskCommand({ taskDefinition: 'sleeper', containerInstances: [agent.instanceArn], startedBy: 'reconnect' }));
      expect(failures).toEqual([]);
      return lab.waitForTask(tasks![0]!.taskArn!, (t) => t.lastStatus === 'RUNNING');
    };
    const [keeps, exits] = [await start(), await start()];
    const keepsId = keeps.containers![0]!.runtimeId!;
    const exitsId = exits.containers![0]!.runtimeId!;
    const pidBefore = runcState(root, keepsId).pid;

    const holder = lab.presence(agent.instanceId);
    const dead = lab.replicas.find((r) => r.id === holder);
    expect(dead, `presence of ${agent.instanceId}: ${holder}`).toBeDefined();
    const sessions = () => agent.process.stderr().match(/session with the control plane established/g)?.length ?? 0;
    const sessionsBefore = sessions();
    await lab.killReplica(dead!.index);
    const killedAt = Date.now();
    // While the agent has no session, one of its containers dies.
    execFileSync('runc', ['--root', root, 'kill', exitsId, 'KILL']);

    let movedTo: string | undefined;
    while (Date.now() - killedAt < 15_000) {
      movedTo = lab.presence(agent.instanceId);
      if (movedTo !== undefined && movedTo !== dead!.id && sessions() > sessionsBefore) break;
      await sleep(50);
    }
    const reconnectMs = Date.now() - killedAt;
    expect(movedTo).not.toBe(dead!.id);
    expect(movedTo).toBeDefined();
    expect(reconnectMs).toBeLessThan(10_000);

    // The exit is reported: STOPPED with SIGKILL's status.
    const gone = await lab.waitForTask(exits.taskArn!, (t) => t.lastStatus === 'STOPPED');
    console.log(JSON.stringify({ killedReplica: dead!.id, movedTo, reconnectMs, exitReportedMs: Date.now() - killedAt }));
    expect(gone.containers![0]!.exitCode).toBe(137);
    // The other container was never touched: same task, same container, same process, still running.
    const after = (await lab.ecs().send(new DescribeTasksCommand({ tasks: [keeps.taskArn!] }))).tasks![0]!;
    expect(after).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(after.containers![0]!.runtimeId).toBe(keepsId);
    expect(runcState(root, keepsId)).toEqual({ status: 'running', pid: pidBefore });
    await lab.ecs().send(new StopTaskCommand({ task: keeps.taskArn! }));
    await lab.waitForTask(keeps.taskArn!, (t) => t.lastStatus === 'STOPPED');
    await lab.restartReplica(dead!.index);
  });
  it('EventBridge Scheduler across a kill -9 of the leading replica: each slot before, around and after the failover runs its task exactly once', async () => {
    const old = await lab.leader();
    const survivor = lab.replicas.find((r) => r.index !== old && r.alive)!;
    const keys = survivor.process.keys;
    const iam = new IAMClient({ endpoint: survivor.url, region: 'us-east-1', credentials: keys, maxAttempts: 3 });
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'ha-scheduler', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const account = role.Role!.Arn!.split(':')[4]!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'ha-scheduler',
        PolicyName: 'run-quick',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:RunTask', Resource: `arn:aws:ecs:us-east-1:${account}:task-definition/quick:*` }] }),
      }),
    );
    iam.destroy();
    const scheduler = schedulerClient(survivor.url, keys);
    // Five one-time slots a second apart; the leader dies between the second and the third.
    const first = Math.ceil((Date.now() + 6_000) / 1000) * 1000;
    const names = [0, 1, 2, 3, 4].map((i) => `ha-once-${i}`);
    for (const [i, name] of names.entries()) {
      const made = await scheduler('CreateSchedule', {
        Name: name,
        ScheduleExpression: `at(${new Date(first + i * 1000).toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: `arn:aws:ecs:us-east-1:${account}:cluster/default`,
          RoleArn: role.Role!.Arn!,
          EcsParameters: { TaskDefinitionArn: `arn:aws:ecs:us-east-1:${account}:task-definition/quick:1`, LaunchType: 'EC2' },
        },
      });
      expect(made, JSON.stringify(made)).toMatchObject({ status: 200 });
    }
    const wait = first + 1_500 - Date.now();
    expect(wait, 'the machine took too long to create the schedules').toBeGreaterThan(0);
    await sleep(wait);
    await lab.killReplica(old);
    const ecs = lab.ecs([old]);
    const tasksOf = async (name: string) => {
      const lists = await Promise.all(
        (['RUNNING', 'STOPPED'] as const).map((desiredStatus) => ecs.send(new ListTasksCommand({ startedBy: `scheduler/${name}`, desiredStatus }))),
      );
      return new Set(lists.flatMap((l) => l.taskArns ?? [])).size;
    };
    const counts = () => Promise.all(names.map(tasksOf));
    await expect.poll(counts, { timeout: 60_000, interval: 500 }).toEqual([1, 1, 1, 1, 1]);
    // A second task would come from a slot claimed twice: give the new leader's passes a few seconds to make one.
    await sleep(3_000);
    expect(await counts()).toEqual([1, 1, 1, 1, 1]);
    await lab.restartReplica(old);
  });
});
