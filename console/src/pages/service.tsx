import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, type Service, type Task } from '@aws-sdk/client-ecs';
import { ecsClient } from '../api.js';
import { ErrorNote, Fact, Loading, PageTitle, Progress, Section, Status, Table } from '../components.js';
import { age, chunks, taskDefinitionName, timestamp } from '../format.js';
import { usePoll } from '../poll.js';
import { href, Link } from '../router.js';
import { useSession } from '../session.js';
import { listAll, TaskTable } from './cluster.js';
import { Lazy } from '../lazy.js';
import { ServiceActions } from './service-actions.js';

/** The panels that bring their own SDK client load with the page's first render, apart from it (lazy.tsx). */
const loadTargets = () => import('./service-targets.js');
const loadScaling = () => import('./service-scaling.js');
const loadMetrics = () => import('./service-metrics.js');

/** Stopped tasks shown beside the running ones, newest first: enough to read why the last few stopped. */
const STOPPED_SHOWN = 10;

/**
 * One service: its deployments and their rollout, its events, its tasks; its actions (service-actions.tsx); its CPU
 * and memory charts, load balancer targets and auto scaling (service-metrics.tsx, service-targets.tsx,
 * service-scaling.tsx).
 */
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
          <ServiceActions cluster={cluster} service={s} onDone={polled.refresh} />
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
          <Section title="CPU and memory" id="metrics">
            <Lazy what="The charts" load={loadMetrics} props={{ cluster, service }} />
          </Section>
          <Section title="Load balancer targets" id="targets">
            {(s.loadBalancers ?? []).some((lb) => lb.targetGroupArn) ? (
              <Lazy what="The targets" load={loadTargets} props={{ loadBalancers: s.loadBalancers ?? [] }} />
            ) : (
              <p class="muted">The service is not behind a load balancer.</p>
            )}
          </Section>
          <Section title="Auto scaling" id="scaling">
            <Lazy what="Auto scaling" load={loadScaling} props={{ cluster, service }} />
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
