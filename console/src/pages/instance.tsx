import { DescribeContainerInstancesCommand, DescribeTasksCommand, ListTasksCommand, UpdateContainerInstancesStateCommand, type Task } from '@aws-sdk/client-ecs';
import { useAction, OutcomeNote } from '../action.js';
import { ecsClient } from '../api.js';
import { Bar, ErrorNote, Fact, Loading, PageTitle, Section, Status, Table } from '../components.js';
import { chunks, resourceValue, timestamp } from '../format.js';
import { usePoll } from '../poll.js';
import { href, Link } from '../router.js';
import { useSession } from '../session.js';
import { listAll, TaskTable } from './cluster.js';

/** One container instance: resources registered and remaining, attributes, its tasks; drain or activate it. */
export default function InstancePage({ params }: { params: { cluster?: string; instance?: string } }) {
  const cluster = params.cluster!;
  const instance = params.instance!;
  const { session } = useSession();
  const polled = usePoll(async () => {
    const ecs = ecsClient(session);
    const [described, taskArns] = await Promise.all([
      ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [instance] })),
      listAll((nextToken) => ecs.send(new ListTasksCommand({ cluster, containerInstance: instance, nextToken })).then((p) => ({ items: p.taskArns, nextToken: p.nextToken }))),
    ]);
    const tasks: Task[] = [];
    for (const part of chunks(taskArns, 100)) tasks.push(...((await ecs.send(new DescribeTasksCommand({ cluster, tasks: part }))).tasks ?? []));
    return { instance: described.containerInstances?.[0], failure: described.failures?.[0], tasks };
  }, [session, cluster, instance]);
  const i = polled.data?.instance;

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt} kicker={<Link href={href('clusters', cluster)}>Cluster {cluster}</Link>}>
        Container instance {i?.ec2InstanceId ?? instance}
      </PageTitle>
      <ErrorNote error={polled.error} what={`read container instance ${instance}`} />
      {!polled.data ? (
        polled.error ? null : <Loading what="the container instance" />
      ) : !i ? (
        <p role="alert">
          No container instance {instance} in cluster {cluster} ({polled.data.failure?.reason ?? 'MISSING'}).
        </p>
      ) : (
        <>
          <dl class="facts">
            <Fact label="Status" testId="instance-status">
              <Status value={i.status} />
            </Fact>
            <Fact label="Agent">{i.agentConnected ? 'connected' : 'not connected'}</Fact>
            <Fact label="Running tasks">{i.runningTasksCount ?? 0}</Fact>
            <Fact label="Pending tasks">{i.pendingTasksCount ?? 0}</Fact>
            <Fact label="Capacity provider">{i.capacityProviderName ?? 'none'}</Fact>
            <Fact label="Agent version">{i.versionInfo?.agentVersion}</Fact>
            <Fact label="Registered">{timestamp(i.registeredAt)}</Fact>
          </dl>
          <StateAction cluster={cluster} arn={i.containerInstanceArn!} status={i.status ?? ''} onDone={polled.refresh} />
          <Section title="Resources" id="resources">
            <div class="card">
              <Bar label="CPU" used={resourceValue(i.registeredResources, 'CPU') - resourceValue(i.remainingResources, 'CPU')} total={resourceValue(i.registeredResources, 'CPU')} unit="units" />
              <Bar label="Memory" used={resourceValue(i.registeredResources, 'MEMORY') - resourceValue(i.remainingResources, 'MEMORY')} total={resourceValue(i.registeredResources, 'MEMORY')} unit="MiB" />
            </div>
            <Table caption="Registered and remaining resources" head={['Resource', 'Type', 'Registered', 'Remaining']}>
              {(i.registeredResources ?? []).map((r) => {
                const left = i.remainingResources?.find((x) => x.name === r.name);
                const show = (v: typeof r | undefined) => (v?.type === 'STRINGSET' ? (v.stringSetValue ?? []).join(', ') : String(v?.integerValue ?? v?.doubleValue ?? v?.longValue ?? ''));
                return (
                  <tr key={r.name}>
                    <th scope="row">{r.name}</th>
                    <td>{r.type}</td>
                    <td>{show(r)}</td>
                    <td>{show(left)}</td>
                  </tr>
                );
              })}
            </Table>
          </Section>
          <Section title="Attributes" id="attributes">
            <Table caption="Attributes" head={['Name', 'Value']}>
              {[...(i.attributes ?? [])]
                .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))
                .map((a) => (
                  <tr key={a.name}>
                    <th scope="row">
                      <code>{a.name}</code>
                    </th>
                    <td>{a.value}</td>
                  </tr>
                ))}
            </Table>
          </Section>
          <Section title="Tasks" id="tasks">
            <TaskTable cluster={cluster} tasks={polled.data.tasks} caption="Tasks on this instance" />
          </Section>
        </>
      )}
    </>
  );
}

/** Drain (its service tasks move elsewhere, no new ones are placed) or make ACTIVE again. */
function StateAction({ cluster, arn, status, onDone }: { cluster: string; arn: string; status: string; onDone: () => void }) {
  const { session } = useSession();
  const { busy, outcome, run } = useAction();
  const target = status === 'DRAINING' ? 'ACTIVE' : 'DRAINING';
  if (status !== 'ACTIVE' && status !== 'DRAINING') return null;
  const change = () =>
    run(async () => {
      const out = await ecsClient(session).send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arn], status: target }));
      const failure = out.failures?.[0];
      if (failure) throw new Error(`${failure.reason ?? 'Failed'}${failure.detail ? `: ${failure.detail}` : ''}`);
      return undefined;
    }, onDone);
  return (
    <div class="actions">
      <button type="button" disabled={busy} onClick={() => void change()}>
        {target === 'DRAINING' ? 'Drain' : 'Activate'}
      </button>
      <OutcomeNote outcome={outcome} />
    </div>
  );
}
