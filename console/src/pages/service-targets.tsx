import { DescribeTargetHealthCommand, type TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancer } from '@aws-sdk/client-ecs';
import { ErrorNote, Loading, Status, Table } from '../components.js';
import { elbClient } from '../elb-api.js';
import { usePoll } from '../poll.js';
import { useSession } from '../session.js';

/** `…:targetgroup/web/0123abcd` → `web`. */
const targetGroupName = (arn: string) => arn.split(':').at(-1)?.split('/')[1] ?? arn;

/**
 * The targets ECS registered for the service in its target groups, with their health as ELBv2 DescribeTargetHealth
 * reports it (healthy once `berth lb` checks pass; unused while no listener forwards to the group).
 */
export default function ServiceTargets({ loadBalancers }: { loadBalancers: readonly LoadBalancer[] }) {
  const { session } = useSession();
  const groups = loadBalancers.filter((lb) => lb.targetGroupArn);
  const key = groups.map((g) => g.targetGroupArn).join();
  const polled = usePoll(async () => {
    const elb = elbClient(session);
    return Promise.all(
      groups.map(async (g) => ({
        group: g,
        targets: (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.targetGroupArn }))).TargetHealthDescriptions ?? ([] as TargetHealthDescription[]),
      })),
    );
  }, [session, key]);

  if (polled.error) return <ErrorNote error={polled.error} what="read the load balancer targets" />;
  if (!polled.data) return <Loading what="the targets" />;
  const rows = polled.data.flatMap(({ group, targets }) => targets.map((t) => ({ group, t })));
  return (
    <>
      <ul class="plain-list">
        {groups.map((g) => (
          <li key={g.targetGroupArn}>
            Target group <strong>{targetGroupName(g.targetGroupArn!)}</strong> → container {g.containerName}:{g.containerPort}
          </li>
        ))}
      </ul>
      {rows.length === 0 ? (
        <p class="muted">No targets registered yet.</p>
      ) : (
        <Table caption="Load balancer targets" head={['Target group', 'Target', 'Port', 'Zone', 'Health', 'Reason']}>
          {rows.map(({ group, t }) => (
            <tr key={`${group.targetGroupArn}/${t.Target?.Id}:${t.Target?.Port}`} data-target-state={t.TargetHealth?.State}>
              <td>{targetGroupName(group.targetGroupArn!)}</td>
              <th scope="row">
                <code>{t.Target?.Id}</code>
              </th>
              <td class="num">{t.Target?.Port}</td>
              <td>{t.Target?.AvailabilityZone}</td>
              <td>
                <Status value={t.TargetHealth?.State?.toUpperCase()} />
              </td>
              <td>
                {t.TargetHealth?.Reason}
                {t.TargetHealth?.Description ? <div class="muted">{t.TargetHealth.Description}</div> : null}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
