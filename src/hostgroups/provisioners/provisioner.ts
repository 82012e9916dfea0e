/**
 * Where a group's hosts come from. A launch configuration's ImageId names one: `netns` (built in: a simulated host
 * on this machine) or `command:NAME` (an executable the operator configured under NAME). Both calls must be
 * idempotent for an instance id: the controller records an instance before asking for it, so a leader that takes
 * over mid-call asks again rather than leave a host untracked, and it asks again to terminate until asked once
 * successfully.
 */
export interface HostRequest {
  /** `i-` and 17 hex digits: the id the host's agent registers as (BERTH_EC2_INSTANCE_ID in its ecs.config). */
  readonly instanceId: string;
  readonly groupName: string;
  readonly availabilityZone: string;
  readonly instanceType: string;
  readonly cpuUnits: number;
  readonly memoryMib: number;
  /** The cluster the host joins (its ecs.config's ECS_CLUSTER). */
  readonly cluster: string;
  /** The whole ecs.config the new host's agent must use. */
  readonly ecsConfig: string;
}

export interface HostProvisioner {
  create(host: HostRequest): Promise<void>;
  terminate(instanceId: string): Promise<void>;
  /** ECS_BACKEND_HOST of its hosts, when the provisioner knows how they reach the server (netns: the gateway). */
  backendHost?(): string;
}

/** The provisioners a server has, by ImageId. */
export interface Provisioners {
  /** The provisioner `imageId` names, or undefined. */
  get(imageId: string): HostProvisioner | undefined;
  /** Why `imageId` names none (for CreateLaunchConfiguration's ValidationError), or undefined when it does. */
  problem(imageId: string): string | undefined;
  /** Stop what the provisioners themselves run (the netns hosts' agents stay up: the server restarting must not take hosts down). */
  close?(): Promise<void>;
}

export function provisionerSet(netns: HostProvisioner | undefined, commands: ReadonlyMap<string, HostProvisioner>): Provisioners {
  return {
    get: (imageId) => (imageId === 'netns' ? netns : imageId.startsWith('command:') ? commands.get(imageId.slice('command:'.length)) : undefined),
    problem: (imageId) => {
      if (imageId === 'netns') return netns ? undefined : "the netns provisioner is not enabled on this server (berth server --host-provisioner netns)";
      const name = imageId.slice('command:'.length);
      if (commands.has(name)) return undefined;
      return `'${imageId}' names no configured provisioner (berth server --host-provisioner ${name}=PATH)${commands.size ? `; configured: ${[...commands.keys()].map((n) => `command:${n}`).join(', ')}` : ''}`;
    },
  };
}
