/**
 * The endpoint's paths, ECS's v3 and v4 (`<token>` is the container's secret path segment):
 *
 *   /v4/<token>                container metadata       /v4/<token>/stats        the container's stats
 *   /v4/<token>/task           task metadata            /v4/<token>/task/stats   stats of the task's containers
 *   /v4/<token>/taskWithTags   task metadata and tags   (the same under /v3/ with v3's shapes)
 *
 * A trailing slash and a query string are ignored. Pure.
 */
import type { MetadataVersion } from './format-task.js';

export const metadataResources = ['container', 'task', 'taskWithTags', 'stats', 'taskStats'] as const;
export type MetadataResource = (typeof metadataResources)[number];

export interface MetadataRoute {
  readonly version: MetadataVersion;
  readonly token: string;
  readonly resource: MetadataResource;
}

// A Map: the key is the rest of the request's path, and a plain object would answer `constructor` too.
const RESOURCES: ReadonlyMap<string, MetadataResource> = new Map([
  ['', 'container'],
  ['task', 'task'],
  ['taskWithTags', 'taskWithTags'],
  ['stats', 'stats'],
  ['task/stats', 'taskStats'],
]);

/** The route a request path names, or undefined when it names none. */
export function parseRoute(url: string): MetadataRoute | undefined {
  const path = url.split('?')[0]!.replace(/(.)\/$/, '$1');
  const m = /^\/(v3|v4)\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (!m) return undefined;
  const resource = RESOURCES.get(m[3] ?? '');
  return resource ? { version: m[1] as MetadataVersion, token: m[2]!, resource } : undefined;
}

/**
 * ECS's words when a token names no container it may see, per endpoint. ECS also echoes the token; berth
 * does not, so a body never carries a secret (into a proxy's log, say).
 */
export function notFoundMessage(route: MetadataRoute): string {
  const V = route.version.toUpperCase();
  switch (route.resource) {
    case 'container':
      return `${V} container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID`;
    case 'task':
    case 'taskWithTags':
      return `${V} task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID`;
    case 'stats':
      return `${V} container stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID`;
    case 'taskStats':
      return `${V} task stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID`;
  }
}

/** Answer to a path that is no route at all (Go's router says it this way). */
export const NO_ROUTE_MESSAGE = '404 page not found';
