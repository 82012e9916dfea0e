import type { CapacityProvider, CapacityProviderStrategyItem, ContainerInstance } from '@aws-sdk/client-ecs';
import { Status, Table } from '../components.js';
import { shortId } from '../format.js';

/**
 * A cluster's capacity providers (DescribeCapacityProviders): what each draws on (FARGATE, an Auto Scaling group),
 * its managed scaling and termination protection, its share of the cluster's default strategy, and how many of
 * the cluster's instances it registered.
 */
export function CapacityProviders({ providers, strategy, instances }: { providers: readonly CapacityProvider[]; strategy: readonly CapacityProviderStrategyItem[]; instances: readonly ContainerInstance[] }) {
  if (providers.length === 0) return <p class="muted">No capacity providers: tasks use a launch type (EC2 on the registered instances, or FARGATE).</p>;
  return (
    <Table caption="Capacity providers" head={['Capacity provider', 'Status', 'Draws on', 'Managed scaling', 'Termination protection', 'Default strategy', 'Instances']}>
      {providers.map((p) => {
        const asg = p.autoScalingGroupProvider;
        const scaling = asg?.managedScaling;
        const share = strategy.find((s) => s.capacityProvider === p.name);
        return (
          <tr key={p.capacityProviderArn ?? p.name} data-capacity-provider={p.name}>
            <th scope="row">{p.name}</th>
            <td>
              <Status value={p.status} />
              {p.updateStatus ? <div class="muted">{p.updateStatus}</div> : null}
            </td>
            <td>{asg ? `Auto Scaling group ${shortId(asg.autoScalingGroupArn)}` : p.name?.startsWith('FARGATE') ? 'Fargate' : (p.type ?? '')}</td>
            <td>{scaling ? `${scaling.status ?? ''}${scaling.status === 'ENABLED' ? `, target ${scaling.targetCapacity ?? 100}%, steps ${scaling.minimumScalingStepSize ?? 1}–${scaling.maximumScalingStepSize ?? 10000}` : ''}` : ''}</td>
            <td>{asg?.managedTerminationProtection ?? ''}</td>
            <td>{share ? `base ${share.base ?? 0}, weight ${share.weight ?? 0}` : <span class="muted">not in it</span>}</td>
            <td class="num">{instances.filter((i) => i.capacityProviderName === p.name).length}</td>
          </tr>
        );
      })}
    </Table>
  );
}
