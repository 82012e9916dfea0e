/**
 * Container networking through the standard CNI plugins (bridge, host-local, portmap, loopback from
 * Debian's containernetworking-plugins): one network namespace per attachment, an address on berth's
 * bridge, and host-port mappings.
 */
export interface NetworkService {
  /**
   * Create a network namespace for `id`, bring up loopback and (for `bridge`) an interface on berth's
   * bridge with the given port mappings. Host ports must already be chosen (see PortAllocator).
   */
  attach(request: AttachRequest): Promise<Attachment>;
  /** Undo attach: CNI DEL, delete the namespace. Idempotent, and safe after a crash mid-attach. */
  detach(id: string): Promise<void>;
  /** Ids with a namespace on this host, for recovery and cleanup after an agent restart. */
  list(): Promise<string[]>;
}

export interface AttachRequest {
  readonly id: string;
  /** `bridge`: an address on berth's bridge; `none`: loopback only. (`host` needs no attachment.) */
  readonly mode: 'bridge' | 'none';
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
 * is chosen here from 49153–65535, never one that is reserved or already held.
 */
export interface PortAllocator {
  /** Reserve exactly these ports (fixed host ports); throws if one is taken. */
  reserve(owner: string, ports: readonly { port: number; protocol: 'tcp' | 'udp' }[]): void;
  /** Choose and reserve a free dynamic port. */
  allocate(owner: string, protocol: 'tcp' | 'udp'): number;
  /** Release everything `owner` holds. */
  release(owner: string): void;
}
