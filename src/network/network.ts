/**
 * Container networking through the standard CNI plugins (bridge, host-local, portmap, loopback from
 * Debian's containernetworking-plugins): one network namespace per attachment, an address on berth's
 * bridge, and host-port mappings.
 */
export interface NetworkService {
  /**
   * Create a network namespace for `id`, bring up loopback and (for `bridge`) an interface on berth's
   * bridge with the given port mappings. Host ports must already be chosen (see PortAllocator).
   * `hooks.onNamespace` is called as soon as the namespace exists, before the plugins run, so that a
   * container can be created in it while its interfaces are still being set up.
   */
  attach(request: AttachRequest, hooks?: AttachHooks): Promise<Attachment>;
  /**
   * Undo attach: CNI DEL, delete the namespace. Idempotent (an unknown id is a no-op), and finishes the
   * job after a crash mid-attach or mid-detach, from a new process too.
   */
  detach(id: string): Promise<void>;
  /**
   * Ids of every attachment this service holds, complete or left half made by a crash, for recovery and
   * cleanup after an agent restart: detach those whose task is gone.
   */
  list(): Promise<string[]>;
}

/**
 * `bridge`: an address on berth's bridge, port mappings published on the host's addresses. `awsvpc`: the
 * task's own address on the same berth-managed subnet and no mappings: clients reach containerPort at the
 * task's address, so no host port is used. `none`: loopback only. `host` needs no attachment: the
 * containers join the host's namespace.
 */
export const attachModes = ['bridge', 'awsvpc', 'none'] as const;
export type AttachMode = (typeof attachModes)[number];

export interface AttachHooks {
  readonly onNamespace?: (netnsPath: string) => void;
}

export interface AttachRequest {
  /** Names the namespace (`berth-<id>`) and is the CNI container id: letters, digits, `_`, `.`, `-`. */
  readonly id: string;
  readonly mode: AttachMode;
  readonly portMappings: readonly PortMapping[];
}

export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface Attachment {
  /** Path of the network namespace, for the runtime to join. */
  readonly netnsPath: string;
  readonly ipv4Address?: string;
  readonly macAddress?: string;
  readonly gateway?: string;
}

/**
 * Host ports are instance resources: a fixed hostPort is reserved by placement; a dynamic one (hostPort 0)
 * is chosen here from 49153–65535, never one that is reserved or already held. Two owners never hold the
 * same port and protocol. `bridge` tasks hold their published ports, `host` tasks the ports they bind.
 */
export interface PortAllocator {
  /** Reserve exactly these ports (fixed host ports), all or none; throws if one is reserved or taken. */
  reserve(owner: string, ports: readonly { port: number; protocol: 'tcp' | 'udp' }[]): void;
  /** Choose and reserve a free dynamic port. */
  allocate(owner: string, protocol: 'tcp' | 'udp'): number;
  /** Release everything `owner` holds. */
  release(owner: string): void;
  /** Every port held and by whom: what the agent persists, and restores the allocator from after a restart. */
  holdings(): PortHolding[];
}

export interface PortHolding {
  readonly owner: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}
