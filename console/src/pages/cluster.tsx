import {
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  type CapacityProvider,
  type ContainerInstance,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { ecsClient } from '../api.js';
import { Bar, ErrorNote, Fact, Loading, PageTitle, Progress, Section, Status, Table } from '../components.js';
import { age, chunks, resourceValue, shortId, taskDefinitionName } from '../format.js';
import { usePoll } from '../poll.js';
import { BASE, href, Link, revisionHref } from '../router.js';
import { useSession } from '../session.js';
import { CapacityProviders } from './capacity-providers.js';

/** One cluster: its instances (CPU and memory reserved of registered), capacity providers, services and tasks. */
export default function ClusterPage({ params }: { params: { cluster?: string } }) {
  const cluster = params.cluster!;
  const { session } = useSession();
  const polled = usePoll(async () => {
    const ecs = ecsClient(session);
    const [described, instanceArns, serviceArns, taskArns] = await Promise.all([
      ecs.send(new DescribeClustersCommand({ clusters: [cluster] })),
      listAll((nextToken) => ecs.send(new ListContainerInstancesCommand({ cluster, nextToken })).then((p) => ({ items: p.containerInstanceArns, nextToken: p.nextToken }))),
      listAll((nextToken) => ecs.send(new ListServicesCommand({ cluster, nextToken })).then((p) => ({ items: p.serviceArns, nextToken: p.nextToken }))),
      listAll((nextToken) => ecs.send(new ListTasksCommand({ cluster, nextToken })).then((p) => ({ items: p.taskArns, nextToken: p.nextToken }))),
    ]);
    const instances: ContainerInstance[] = [];
    for (const part of chunks(instanceArns, 100)) instances.push(...((await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: part }))).containerInstances ?? []));
    const services: Service[] = [];
    for (const part of chunks(serviceArns, 10)) services.push(...((await ecs.send(new DescribeServicesCommand({ cluster, services: part }))).services ?? []));
    const tasks: Task[] = [];
    for (const part of chunks(taskArns, 100)) tasks.push(...((await ecs.send(new DescribeTasksCommand({ cluster, tasks: part }))).tasks ?? []));
    const providerNames = described.clusters?.[0]?.capacityProviders ?? [];
    const providers: CapacityProvider[] = providerNames.length ? ((await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: providerNames }))).capacityProviders ?? []) : [];
    return { cluster: described.clusters?.[0], failures: described.failures, instances, services, tasks, providers };
  }, [session, cluster]);
  const data = polled.data;

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={`${BASE}/clusters`}>Clusters</Link>}>
        Cluster {cluster}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read cluster ${cluster}`} />
      {!data ? (
        polled.error ? null : <Loading what="the cluster" />
      ) : !data.cluster ? (
        <p role="alert">No cluster named {cluster} ({data.failures?.[0]?.reason ?? 'MISSING'}).</p>
      ) : (
        <>
          <dl class="facts">
            <Fact label="Status">
              <Status value={data.cluster.status} />
            </Fact>
            <Fact label="Running tasks">{data.cluster.runningTasksCount ?? 0}</Fact>
            <Fact label="Pending tasks">{data.cluster.pendingTasksCount ?? 0}</Fact>
            <Fact label="Services">{data.cluster.activeServicesCount ?? 0}</Fact>
            <Fact label="Capacity providers">{(data.cluster.capacityProviders ?? []).join(', ') || 'none'}</Fact>
          </dl>
          <Section title="Container instances" id="instances">
            {data.instances.length === 0 ? (
              <p class="muted">No container instances registered.</p>
            ) : (
              <ul class="cards">
                {data.instances.map((i) => (
                  <InstanceCard key={i.containerInstanceArn} cluster={cluster} instance={i} />
                ))}
              </ul>
            )}
          </Section>
          <Section title="Capacity providers" id="capacity-providers">
            <CapacityProviders providers={data.providers} strategy={data.cluster.defaultCapacityProviderStrategy ?? []} instances={data.instances} />
          </Section>
          <Section title="Services" id="services" actions={<Link href={href('clusters', cluster, 'create-service')}>Create a service</Link>}>
            {data.services.length === 0 ? (
              <p class="muted">No services.</p>
            ) : (
              <Table caption="Services" head={['Service', 'Status', 'Desired', 'Running', 'Pending', 'Rollout', 'Task definition']}>
                {data.services.map((s) => {
                  const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
                  return (
                    <tr key={s.serviceArn}>
                      <th scope="row">
                        <Link href={href('clusters', cluster, 'services', s.serviceName ?? '')}>{s.serviceName}</Link>
                      </th>
                      <td>
                        <Status value={s.status} />
                      </td>
                      <td class="num">{s.desiredCount ?? 0}</td>
                      <td class="num">
                        {s.runningCount ?? 0} <Progress label={`${s.serviceName} tasks`} running={s.runningCount ?? 0} pending={s.pendingCount ?? 0} desired={s.desiredCount ?? 0} />
                      </td>
                      <td class="num">{s.pendingCount ?? 0}</td>
                      <td>
                        <Status value={primary?.rolloutState} />
                      </td>
                      <td>
                        <Link href={revisionHref(s.taskDefinition)}>{taskDefinitionName(s.taskDefinition)}</Link>
                      </td>
                    </tr>
                  );
                })}
              </Table>
            )}
          </Section>
          <Section title="Tasks" id="tasks">
            <TaskTable cluster={cluster} tasks={data.tasks} caption="Running and pending tasks" />
          </Section>
        </>
      )}
    </>
  );
}

function InstanceCard({ cluster, instance: i }: { cluster: string; instance: ContainerInstance }) {
  const cpu = resourceValue(i.registeredResources, 'CPU');
  const memory = resourceValue(i.registeredResources, 'MEMORY');
  return (
    <li class="card">
      <h3>
        <Link href={href('clusters', cluster, 'instances', shortId(i.containerInstanceArn))}>{i.ec2InstanceId ?? shortId(i.containerInstanceArn)}</Link> <Status value={i.status} />
      </h3>
      <p class="muted">
        {i.agentConnected ? 'agent connected' : 'agent not connected'} · {i.runningTasksCount ?? 0} running, {i.pendingTasksCount ?? 0} pending
        {i.capacityProviderName ? ` · ${i.capacityProviderName}` : ''}
      </p>
      <Bar label="CPU" used={cpu - resourceValue(i.remainingResources, 'CPU')} total={cpu} unit="units" />
      <Bar label="Memory" used={memory - resourceValue(i.remainingResources, 'MEMORY')} total={memory} unit="MiB" />
    </li>
  );
}

export function TaskTable({ cluster, tasks, caption }: { cluster: string; tasks: readonly Task[]; caption: string }) {
  if (tasks.length === 0) return <p class="muted">No tasks.</p>;
  const sorted = [...tasks].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  return (
    <Table caption={caption} head={['Task', 'Last status', 'Desired', 'Definition', 'Group', 'Started', 'Stopped reason']}>
      {sorted.map((t) => (
        <tr key={t.taskArn}>
          <th scope="row">
            <Link href={href('clusters', cluster, 'tasks', shortId(t.taskArn))}>
              <code>{shortId(t.taskArn).slice(0, 12)}</code>
            </Link>
          </th>
          <td>
            <Status value={t.lastStatus} />
          </td>
          <td>{t.desiredStatus}</td>
          <td>{taskDefinitionName(t.taskDefinitionArn)}</td>
          <td>{t.group}</td>
          <td>{t.startedAt ? `${age(t.startedAt)} ago` : ''}</td>
          <td>{t.stoppedReason}</td>
        </tr>
      ))}
    </Table>
  );
}

/** Follow nextToken to the end of a List call. */
export async function listAll(page: (nextToken: string | undefined) => Promise<{ items?: string[] | undefined; nextToken?: string | undefined }>): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    out.push(...(p.items ?? []));
    token = p.nextToken;
  } while (token);
  return out;
}
