import type { ArnScope } from '../../model/arn.js';
import type { Registry } from '../../registry/registry.js';

/** What every ECR operation needs from the server around it. */
export interface EcrEnv {
  readonly registry: Registry;
  readonly scope: ArnScope;
  /** `host:port` clients use to reach the registry: the host of every repositoryUri. */
  readonly registryHost: () => string;
  /** `http` (berth serves the registry without TLS; put a proxy in front for https). */
  readonly registryScheme: 'http' | 'https';
}

/** ECR timestamps on the wire: epoch seconds, with fractions. */
export const epochSeconds = (ms: number) => ms / 1000;
