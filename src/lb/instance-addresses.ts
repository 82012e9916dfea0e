/**
 * Where `instance` targets are: each container instance's `berth.host-address` attribute (registered by its agent,
 * see docs/agent.md), by its `ec2InstanceId` (an instance target's `Id`), read through the public ECS API as any
 * tool would (ListClusters → ListContainerInstances → DescribeContainerInstances, all pages).
 *
 *   empty ──ensure(ids)──▶ refresh ──▶ fresh ──refreshMs──▶ stale ──ensure──▶ refresh
 *                                        └── an id not known ──(at most every missRetryMs)──▶ refresh
 *
 * One refresh serves every target of every tick until it is stale, so the cost is a few calls per `refreshMs`
 * (1 + per cluster 1 + ⌈instances/100⌉), not a call per target per tick. A target whose instance registers later
 * is picked up by the miss refresh within `missRetryMs`; an address that changes (an agent re-registering with
 * another one) within `refreshMs`. A failed refresh keeps the last map (targets stay where they were), throws, and
 * is tried again after `missRetryMs`.
 */
import {
  DescribeContainerInstancesCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  type ContainerInstance,
  type ECSClient,
} from '@aws-sdk/client-ecs';

/** The attribute agents register their host address under (src/agent/host-address.ts names it too). */
export const HOST_ADDRESS_ATTRIBUTE = 'berth.host-address';

export interface InstanceAddressesOptions {
  readonly ecs: Pick<ECSClient, 'send'>;
  /** How old the map may get before it is read again (default 10 s). */
  readonly refreshMs?: number;
  /** How soon after a refresh an unknown instance id may trigger another (default 2 s). */
  readonly missRetryMs?: number;
  readonly now?: () => number;
}

export class InstanceAddresses {
  private addresses = new Map<string, string>();
  private readAt: number | undefined;
  /** When the last refresh began (a failed one too: a node lacking ecs:List* retries every missRetryMs, not every tick). */
  private triedAt: number | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: InstanceAddressesOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The host address of the instance with this EC2 id, as of the last refresh. */
  readonly lookup = (ec2InstanceId: string): string | undefined => this.addresses.get(ec2InstanceId);

  /**
   * Refresh when the map is stale, or when one of `ids` is unknown and the last refresh is old enough; nothing
   * when `ids` is empty.
   */
  async ensure(ids: Iterable<string>): Promise<void> {
    const wanted = [...ids];
    // A node serving no instance target makes no ECS call (nor needs the permissions).
    if (wanted.length === 0) return;
    const now = this.now();
    const age = this.readAt === undefined ? Infinity : now - this.readAt;
    const sinceTry = this.triedAt === undefined ? Infinity : now - this.triedAt;
    const retryMs = this.options.missRetryMs ?? 2_000;
    const missing = wanted.some((id) => !this.addresses.has(id));
    if (sinceTry < retryMs) return;
    if (age < (this.options.refreshMs ?? 10_000) && !missing) return;
    this.inFlight ??= this.refresh().finally(() => (this.inFlight = undefined));
    await this.inFlight;
  }

  private async refresh(): Promise<void> {
    const { ecs } = this.options;
    const startedAt = this.now();
    this.triedAt = startedAt;
    const clusters: string[] = [];
    let token: string | undefined;
    do {
      const page = await ecs.send(new ListClustersCommand({ ...(token ? { nextToken: token } : {}) }));
      clusters.push(...(page.clusterArns ?? []));
      token = page.nextToken;
    } while (token);
    const next = new Map<string, string>();
    await Promise.all(
      clusters.map(async (cluster) => {
        const arns: string[] = [];
        let t: string | undefined;
        do {
          const page = await ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: 100, ...(t ? { nextToken: t } : {}) }));
          arns.push(...(page.containerInstanceArns ?? []));
          t = page.nextToken;
        } while (t);
        for (let i = 0; i < arns.length; i += 100) {
          const page = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns.slice(i, i + 100) }));
          for (const ci of page.containerInstances ?? []) {
            const address = addressOf(ci);
            if (ci.ec2InstanceId && address) next.set(ci.ec2InstanceId, address);
          }
        }
      }),
    );
    this.addresses = next;
    this.readAt = startedAt;
  }
}

function addressOf(ci: ContainerInstance): string | undefined {
  return ci.attributes?.find((a) => a.name === HOST_ADDRESS_ATTRIBUTE)?.value || undefined;
}
