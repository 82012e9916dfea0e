import type {
  CapacityProviderStrategyItem,
  ClusterConfiguration,
  ClusterServiceConnectDefaults,
  ClusterSetting,
} from '@aws-sdk/client-ecs';
import { invalidParameter } from './errors.js';
import type { Tag } from './tags.js';

export const clusterStatuses = ['ACTIVE', 'INACTIVE'] as const;
export type ClusterStatus = (typeof clusterStatuses)[number];

/** A cluster as stored. Counts are not stored: they are derived from the cluster's instances, tasks, services. */
export interface ClusterRecord {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly status: ClusterStatus;
  readonly tags: Tag[];
  readonly settings: ClusterSetting[];
  readonly configuration?: ClusterConfiguration;
  readonly capacityProviders: string[];
  readonly defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  readonly serviceConnectDefaults?: ClusterServiceConnectDefaults;
  readonly createdAt: number;
  /** Epoch seconds of DeleteCluster (status INACTIVE). */
  readonly deletedAt?: number;
}

/** How long ECS-like discoverability of a deleted cluster lasts unless configured: an hour, as berth keeps STOPPED tasks. */
export const DEFAULT_INACTIVE_CLUSTER_RETENTION_MS = 60 * 60_000;

/**
 * Whether ListClusters and DescribeClusters still show `record`: ACTIVE ones always; a deleted (INACTIVE)
 * one "might remain discoverable in your account for a period of time" (ECS's DeleteCluster), here for
 * `retentionMs` after its deletion. An INACTIVE record without a deletion time (written before berth kept
 * one) is past it.
 */
export function isDiscoverable(record: ClusterRecord, nowMs: number, retentionMs: number): boolean {
  if (record.status === 'ACTIVE') return true;
  return record.deletedAt !== undefined && nowMs - record.deletedAt * 1000 < retentionMs;
}

const CLUSTER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;

export function validateClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw invalidParameter(
      `Invalid cluster name '${name}'. Cluster names can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores, and hyphens.`,
    );
  }
}

/** ECS's own capacity providers, which every account has; others are made with CreateCapacityProvider. */
export const builtInCapacityProviders = ['FARGATE', 'FARGATE_SPOT'] as const;

/** Merge `updates` into `current` by setting name; later names win. */
export function mergeSettings(current: readonly ClusterSetting[], updates: readonly ClusterSetting[]): ClusterSetting[] {
  const byName = new Map(current.map((s) => [s.name, s]));
  for (const s of updates) byName.set(s.name, s);
  return [...byName.values()];
}

const CONTAINER_INSIGHTS_VALUES = ['enabled', 'disabled', 'enhanced'];

export function validateClusterSettings(settings: readonly ClusterSetting[] | undefined): void {
  for (const s of settings ?? []) {
    if (s.name === undefined) throw invalidParameter("Missing required parameter 'settings[].name'.");
    if (s.value === undefined || !CONTAINER_INSIGHTS_VALUES.includes(s.value)) {
      throw invalidParameter(
        `Invalid value '${s.value}' for cluster setting '${s.name}'. Valid values: ${CONTAINER_INSIGHTS_VALUES.join(', ')}.`,
      );
    }
  }
}
