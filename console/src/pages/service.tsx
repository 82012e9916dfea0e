import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, UpdateServiceCommand, type Service, type Task } from '@aws-sdk/client-ecs';
import { useState } from 'preact/hooks';
import { describeError, ecsClient } from '../api.js';
import { ErrorNote, Fact, Loading, PageTitle, Progress, Section, Status, Table } from '../components.js';
import { age, chunks, taskDefinitionName, timestamp } from '../format.js';
import { usePoll } from '../poll.js';
import { href, Link } from '../router.js';
import { useSession } from '../session.js';
import { listAll, TaskTable } from './cluster.js';

/** Stopped tasks shown beside the running ones, newest first: enough to read why the last few stopped. */
const STOPPED_SHOWN = 10;

/** One service: its deployments and their rollout, its events, its tasks; scale and force a new deployment. */
export default function ServicePage({ params }: { params: { cluster?: string; service?: string } }) {
  const cluster = params.cluster!;
  const service = params.service!;
  const { session } = useSession();
  const polled = usePoll(async () => {
    const ecs = ecsClient(session);
    const [described, running, stopped] = await Promise.all([
      ecs.send(new DescribeServicesCommand({ cluster, services: [service] })),
      listAll((nextToken) => ecs.send(new ListTasksCommand({ cluster, serviceName: service, nextToken })).then((p) => ({ items: p.taskArns, nextToken: p.nextToken }))),
      ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'STOPPED', maxResults: 100 })).then((p) => p.taskArns ?? []),
    ]);
    const tasks: Task[] = [];
    for (const part of chunks([...running, ...stopped], 100)) tasks.push(...((await ecs.send(new DescribeTasksCommand({ cluster, tasks: part }))).tasks ?? []));
    return { service: described.services?.[0], failure: described.failures?.[0], tasks };
  }, [session, cluster, service]);
  const data = polled.data;
  const s = data?.service;

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={href('clusters', cluster)}>Cluster {cluster}</Link>}>
        Service {service}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read service ${service}`} />
      {!data ? (
        polled.error ? null : <Loading what="the service" />
      ) : !s ? (
        <p role="alert">
          No service named {service} in cluster {cluster} ({data.failure?.reason ?? 'MISSING'}).
        </p>
      ) : (
        <>
          <Summary service={s} />
          <Actions cluster={cluster} service={s} onDone={polled.refresh} />
          <Section title="Deployments" id="deployments">
            <Table caption="Deployments" head={['Deployment', 'Status', 'Task definition', 'Desired', 'Pending', 'Running', 'Failed', 'Rollout', 'Updated']}>
              {(s.deployments ?? []).map((d) => (
                <tr key={d.id} data-deployment-status={d.status}>
                  <th scope="row">
                    <code>{d.id}</code>
                  </th>
                  <td>
                    <Status value={d.status} />
                  </td>
                  <td>{taskDefinitionName(d.taskDefinition)}</td>
                  <td class="num">{d.desiredCount ?? 0}</td>
                  <td class="num">{d.pendingCount ?? 0}</td>
                  <td class="num">
                    {d.runningCount ?? 0} <Progress label={`deployment ${d.id ?? ''}`} running={d.runningCount ?? 0} pending={d.pendingCount ?? 0} desired={d.desiredCount ?? 0} />
                  </td>
                  <td class="num">{d.failedTasks ?? 0}</td>
                  <td>
                    <Status value={d.rolloutState} />
                    {d.rolloutStateReason ? <div class="muted">{d.rolloutStateReason}</div> : null}
                  </td>
                  <td>{d.updatedAt ? `${age(d.updatedAt)} ago` : ''}</td>
                </tr>
              ))}
            </Table>
          </Section>
          <Section title="Events" id="events">
            {(s.events ?? []).length === 0 ? (
              <p class="muted">No events yet.</p>
            ) : (
              <ol class="events" aria-label="Service events, newest first" tabIndex={0}>
                {(s.events ?? []).slice(0, 50).map((e) => (
                  <li key={e.id}>
                    <time dateTime={e.createdAt?.toISOString()}>{timestamp(e.createdAt)}</time>
                    <span>{e.message}</span>
                  </li>
                ))}
              </ol>
            )}
          </Section>
          <Section title="Tasks" id="tasks">
            <TaskTable cluster={cluster} tasks={recentTasks(data.tasks)} caption="The service's tasks" />
          </Section>
        </>
      )}
    </>
  );
}

function recentTasks(tasks: readonly Task[]): Task[] {
  const live = tasks.filter((t) => t.lastStatus !== 'STOPPED');
  const stopped = tasks
    .filter((t) => t.lastStatus === 'STOPPED')
    .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))
    .slice(0, STOPPED_SHOWN);
  return [...live, ...stopped];
}

function Summary({ service: s }: { service: Service }) {
  const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
  return (
    <dl class="facts">
      <Fact label="Status">
        <Status value={s.status} />
      </Fact>
      <Fact label="Desired" testId="desired">{s.desiredCount ?? 0}</Fact>
      <Fact label="Running" testId="running">{s.runningCount ?? 0}</Fact>
      <Fact label="Pending">{s.pendingCount ?? 0}</Fact>
      <Fact label="Rollout" testId="rollout">
        <Status value={primary?.rolloutState} />
      </Fact>
      <Fact label="Task definition">{taskDefinitionName(s.taskDefinition)}</Fact>
      <Fact label="Launch type">{s.launchType ?? (s.capacityProviderStrategy ?? []).map((p) => p.capacityProvider).join(', ')}</Fact>
    </dl>
  );
}

/** Scale and force a new deployment: UpdateService, signed like every other call, its refusal shown as it came. */
function Actions({ cluster, service, onDone }: { cluster: string; service: Service; onDone: () => void }) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>(undefined);

  const update = async (input: { desiredCount?: number; forceNewDeployment?: boolean }, done: string) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      await ecsClient(session).send(new UpdateServiceCommand({ cluster, service: service.serviceName!, ...input }));
      setOutcome({ ok: true, text: done });
      onDone();
    } catch (error) {
      const { name, message } = describeError(error);
      setOutcome({ ok: false, text: `${name}: ${message}` });
    } finally {
      setBusy(false);
    }
  };

  const scale = (e: Event) => {
    e.preventDefault();
    const value = Number(new FormData(e.currentTarget as HTMLFormElement).get('desiredCount'));
    void update({ desiredCount: value }, `Desired count set to ${value}.`);
  };

  return (
    <div class="actions" aria-label="Service actions" role="group">
      <form class="inline-form" onSubmit={scale}>
        <label>
          Desired count
          <input name="desiredCount" type="number" min={0} step={1} required defaultValue={String(service.desiredCount ?? 0)} key={service.desiredCount} />
        </label>
        <button type="submit" disabled={busy}>
          Scale
        </button>
      </form>
      <button type="button" disabled={busy} onClick={() => void update({ forceNewDeployment: true }, 'A new deployment was started.')}>
        Force new deployment
      </button>
      {outcome ? (
        <p class={outcome.ok ? 'notice' : 'error-note'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.text}
        </p>
      ) : null}
    </div>
  );
}
