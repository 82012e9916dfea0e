import { DescribeClustersCommand, ListClustersCommand, type Cluster } from '@aws-sdk/client-ecs';
import { ecsClient } from '../api.js';
import { ErrorNote, Loading, PageTitle, Status, Table } from '../components.js';
import { chunks } from '../format.js';
import { usePoll } from '../poll.js';
import { href, Link } from '../router.js';
import { useSession } from '../session.js';

/** Every cluster with its counts; each links to its page (instances, services, tasks). */
export default function ClustersPage() {
  const { session } = useSession();
  const polled = usePoll(async () => {
    const ecs = ecsClient(session);
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListClustersCommand({ nextToken }));
      arns.push(...(page.clusterArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const clusters: Cluster[] = [];
    for (const part of chunks(arns, 100)) clusters.push(...((await ecs.send(new DescribeClustersCommand({ clusters: part }))).clusters ?? []));
    return clusters.sort((a, b) => (a.clusterName ?? '').localeCompare(b.clusterName ?? ''));
  }, [session]);

  return (
    <>
      <PageTitle updatedAt={polled.updatedAt}>Clusters</PageTitle>
      <ErrorNote error={polled.error} what="list the clusters" />
      {!polled.data ? (
        polled.error ? null : <Loading what="clusters" />
      ) : polled.data.length === 0 ? (
        <p>No clusters yet. CreateCluster, or start an agent (it registers in the cluster named default).</p>
      ) : (
        <Table caption="Clusters" head={['Cluster', 'Status', 'Instances', 'Running tasks', 'Pending tasks', 'Services', 'Capacity providers']}>
          {polled.data.map((c) => (
            <tr key={c.clusterArn}>
              <th scope="row">
                <Link href={href('clusters', c.clusterName ?? '')}>{c.clusterName}</Link>
              </th>
              <td>
                <Status value={c.status} />
              </td>
              <td class="num">{c.registeredContainerInstancesCount ?? 0}</td>
              <td class="num">{c.runningTasksCount ?? 0}</td>
              <td class="num">{c.pendingTasksCount ?? 0}</td>
              <td class="num">{c.activeServicesCount ?? 0}</td>
              <td>{(c.capacityProviders ?? []).join(', ') || <span class="muted">none</span>}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
