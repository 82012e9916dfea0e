import { DescribeTaskDefinitionCommand, DescribeTasksCommand, StopTaskCommand, type Task, type TaskDefinition } from '@aws-sdk/client-ecs';
import { logDestination } from '../../../src/model/log-naming.js';
import { useAction, OutcomeNote } from '../action.js';
import { ecsClient } from '../api.js';
import { ExecSection } from '../exec-section.js';
import { ErrorNote, Fact, Loading, PageTitle, Section, Status, Table } from '../components.js';
import { shortId, taskDefinitionName, timestamp } from '../format.js';
import { LogTail } from '../log-tail.js';
import { usePoll } from '../poll.js';
import { href, Link, revisionHref } from '../router.js';
import { useSession } from '../session.js';

/** Task definitions never change once registered: read each once per page load. */
const definitions = new Map<string, Promise<TaskDefinition | undefined>>();

/** One task: its state, why it stopped, its containers (exit codes, health, bindings), a live log tail; stop it; a terminal in a container (ECS Exec). */
export default function TaskPage({ params }: { params: { cluster?: string; task?: string } }) {
  const cluster = params.cluster!;
  const taskId = params.task!;
  const { session } = useSession();
  const polled = usePoll(async () => {
    const ecs = ecsClient(session);
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskId] }));
    const task = described.tasks?.[0];
    const arn = task?.taskDefinitionArn;
    let definition: TaskDefinition | undefined;
    if (arn) {
      if (!definitions.has(arn)) definitions.set(arn, ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((o) => o.taskDefinition));
      definition = await definitions.get(arn)!.catch(() => undefined);
    }
    return { task, failure: described.failures?.[0], definition };
  }, [session, cluster, taskId]);
  const data = polled.data;
  const task = data?.task;
  const family = taskDefinitionName(task?.taskDefinitionArn).split(':')[0] ?? '';
  const service = task?.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;

  return (
    <>
      <PageTitle
        updatedAt={polled.updatedAt}
        kicker={
          <>
            <Link href={href('clusters', cluster)}>Cluster {cluster}</Link>
            {service ? (
              <>
                {' / '}
                <Link href={href('clusters', cluster, 'services', service)}>Service {service}</Link>
              </>
            ) : null}
          </>
        }
      >
        Task <code>{taskId}</code>
      </PageTitle>
      <ErrorNote error={polled.error} what={`read task ${taskId}`} />
      {!data ? (
        polled.error ? null : <Loading what="the task" />
      ) : !task ? (
        <p role="alert">
          No task {taskId} in cluster {cluster} ({data.failure?.reason ?? 'MISSING'}).
        </p>
      ) : (
        <>
          <TaskFacts task={task} />
          {task.lastStatus !== 'STOPPED' && task.desiredStatus !== 'STOPPED' ? <StopTask cluster={cluster} task={task} onDone={polled.refresh} /> : null}
          <Section title="Containers" id="containers">
            <Table caption="Containers" head={['Container', 'Image', 'Status', 'Exit code', 'Reason', 'Health', 'Network bindings', 'Addresses']}>
              {(task.containers ?? []).map((c) => (
                <tr key={c.name}>
                  <th scope="row">{c.name}</th>
                  <td>
                    <code>{c.image}</code>
                  </td>
                  <td>
                    <Status value={c.lastStatus} />
                  </td>
                  <td class="num" data-testid={`exit-${c.name ?? ''}`}>
                    {c.exitCode ?? ''}
                  </td>
                  <td>{c.reason}</td>
                  <td>
                    <Status value={c.healthStatus} />
                  </td>
                  <td>
                    {(c.networkBindings ?? []).map((b) => (
                      <div key={`${b.hostPort}-${b.containerPort}-${b.protocol}`}>
                        {b.bindIP ?? '0.0.0.0'}:{b.hostPort} → {b.containerPort}/{b.protocol ?? 'tcp'}
                      </div>
                    ))}
                  </td>
                  <td>{(c.networkInterfaces ?? []).map((n) => n.privateIpv4Address ?? n.ipv6Address).join(', ')}</td>
                </tr>
              ))}
            </Table>
          </Section>
          <Section title="Logs" id="logs">
            {(task.containers ?? []).map((c) => {
              const config = data.definition?.containerDefinitions?.find((d) => d.name === c.name)?.logConfiguration;
              const where = logDestination({
                cluster,
                family,
                containerName: c.name ?? '',
                taskArn: task.taskArn ?? taskId,
                runtimeId: c.runtimeId ?? '',
                logConfiguration: config ? { logDriver: config.logDriver, ...(config.options ? { options: config.options } : {}) } : undefined,
              });
              return where ? (
                <LogTail key={c.name} container={c.name ?? ''} group={where.group} stream={where.stream} live={task.lastStatus !== 'STOPPED'} />
              ) : (
                <p key={c.name} class="muted">
                  {c.name}: its log driver is none; nothing is kept.
                </p>
              );
            })}
          </Section>
          <Section title="Exec terminal" id="exec-terminal">
            <ExecSection cluster={cluster} task={task} />
          </Section>
        </>
      )}
    </>
  );
}

function TaskFacts({ task }: { task: Task }) {
  const family = taskDefinitionName(task.taskDefinitionArn);
  return (
    <dl class="facts">
      <Fact label="Last status" testId="last-status">
        <Status value={task.lastStatus} />
      </Fact>
      <Fact label="Desired status">{task.desiredStatus}</Fact>
      <Fact label="Health">
        <Status value={task.healthStatus} />
      </Fact>
      <Fact label="Task definition">
        <Link href={revisionHref(task.taskDefinitionArn)}>{family}</Link>
      </Fact>
      <Fact label="Launch type">{task.launchType}</Fact>
      <Fact label="Container instance">{shortId(task.containerInstanceArn)}</Fact>
      <Fact label="Started">{timestamp(task.startedAt)}</Fact>
      {task.stoppedAt || task.stoppedReason ? (
        <>
          <Fact label="Stopped">{timestamp(task.stoppedAt)}</Fact>
          <Fact label="Stop code">{task.stopCode}</Fact>
          <Fact label="Stopped reason" testId="stopped-reason">{task.stoppedReason}</Fact>
        </>
      ) : null}
    </dl>
  );
}

function StopTask({ cluster, task, onDone }: { cluster: string; task: Task; onDone: () => void }) {
  const { session } = useSession();
  const { busy, outcome, run } = useAction();
  const stop = (e: Event) => {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    void run(async () => {
      await ecsClient(session).send(new StopTaskCommand({ cluster, task: task.taskArn!, ...(reason ? { reason } : {}) }));
      return undefined;
    }, onDone);
  };
  return (
    <form class="actions inline-form" onSubmit={stop} aria-label="Stop the task">
      <label>
        Reason for stopping
        <input name="reason" maxLength={255} placeholder="Stopped from the console" />
      </label>
      <button type="submit" class="danger" disabled={busy}>
        Stop task
      </button>
      <OutcomeNote outcome={outcome} />
    </form>
  );
}
