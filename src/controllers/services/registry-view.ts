import type { InstanceChanges } from '../../cloudmap/service-instances.js';

/** What a service's Cloud Map registries look like to a pass (registries.ts acts on it). */

/** A Cloud Map service as a pass sees it. */
export interface RegistryView {
  readonly arn: string;
  /** Its DNS record types (none for an HTTP namespace's service). */
  readonly recordTypes: readonly string[];
  /** HealthCheckCustomConfig: an unhealthy task is marked UNHEALTHY instead of deregistered. */
  readonly customHealth: boolean;
  /** Every instance it has (the plan picks this service's own: registered by it, see registeredByEcsService). */
  readonly instances: readonly { readonly id: string; readonly attributes: Readonly<Record<string, string>>; readonly health: 'HEALTHY' | 'UNHEALTHY'; readonly registeredBy?: string }[];
}

/** What one pass does in one Cloud Map service. */
export interface RegistryChange extends InstanceChanges {
  readonly registryArn: string;
}
