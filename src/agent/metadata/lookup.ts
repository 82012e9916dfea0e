/**
 * Who is asking: the container a metadata token belongs to, and whether the request may use it.
 *
 * A token is 128 random bits the agent put in one container's environment (ECS_CONTAINER_METADATA_URI_V4);
 * it is the secret that names the container, as in ECS. berth also checks where the request comes from,
 * so that a token seen by another task is useless to it:
 *
 * - a request from an address that belongs to a running container with a network of its own (bridge
 *   mode) or of its task's (awsvpc) may only use tokens of that container's task;
 * - a token of a container with a network of its own may only be used from an address of its task.
 *
 * - any other request must come from an address of the host itself (host-mode containers, the host):
 *   a neighbour on the host's network that routes 169.254.170.2 to it gets nothing.
 *
 * Host-mode containers share the host's addresses, so between them (and the host) only the token tells.
 * Every refusal is the same "not found": an outsider learns nothing about which tokens exist.
 */
import { timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import type { ContainerState, TaskState } from '../task-engine/task-state.js';

/** The task engine's state as the endpoint sees it: read-only, never changed. */
export interface MetadataSource {
  tasks(): readonly TaskState[];
}

export interface Requester {
  readonly task: TaskState;
  readonly container: ContainerState;
}

/** The shape of the tokens the task engine makes (randomBytes(16) as hex). */
const TOKEN = /^[0-9a-f]{32}$/;

/** `::ffff:10.0.0.2` → `10.0.0.2`. */
export function normaliseAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/** The container's address while its network (its own, or its awsvpc task's) is attached. */
const liveAddress = (task: TaskState, c: ContainerState): string | undefined =>
  c.networkId !== undefined || task.taskNetwork !== undefined ? c.ipv4Address : undefined;

function sameToken(a: Buffer, token: string | undefined): boolean {
  if (token === undefined || token.length !== a.length) return false;
  return timingSafeEqual(a, Buffer.from(token));
}

/**
 * The container whose token this is, if the request from `remoteAddress` may use it; undefined for an
 * unknown token and for a refused one alike. `isHostAddress` tells the host's own addresses.
 */
export function findRequester(
  tasks: readonly TaskState[],
  token: string,
  remoteAddress: string | undefined,
  isHostAddress: (address: string) => boolean,
): Requester | undefined {
  if (!TOKEN.test(token)) return undefined;
  const wanted = Buffer.from(token);
  const remote = normaliseAddress(remoteAddress);
  let found: Requester | undefined;
  let remoteTask: string | undefined;
  // One pass over everything, whatever matches, so the time taken says nothing about the token.
  for (const task of tasks) {
    for (const container of task.containers) {
      if (sameToken(wanted, container.metadataToken)) found = { task, container };
      if (remote !== '' && liveAddress(task, container) === remote) remoteTask = task.arn;
    }
  }
  if (!found) return undefined;
  if (remoteTask === undefined && !isHostAddress(remote)) return undefined;
  if (remoteTask !== undefined && remoteTask !== found.task.arn) return undefined;
  if (found.container.ipv4Address !== undefined && remoteTask !== found.task.arn) return undefined;
  return found;
}

/** A token shortened for logs: enough to correlate, never enough to use. */
export function redactToken(token: string): string {
  return token.length <= 4 ? '…' : `${token.slice(0, 4)}…`;
}

/**
 * Whether an address is one of this network namespace's own (os.networkInterfaces), re-read at most every
 * few seconds: addresses seldom change, requests can be many.
 */
export function hostAddressChecker(list: () => NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces, ttlMs = 5_000, now: () => number = Date.now) {
  let cached: { at: number; addresses: Set<string> } | undefined;
  return (address: string): boolean => {
    if (!cached || now() - cached.at >= ttlMs) {
      const addresses = new Set(Object.values(list()).flatMap((infos) => (infos ?? []).map((i) => normaliseAddress(i.address))));
      cached = { at: now(), addresses };
    }
    return cached.addresses.has(address);
  };
}

/**
 * The task whose task-role credentials id this is, if the request from `remoteAddress` may use it: only from
 * an address of that task's own containers (bridge, awsvpc), or, for a host-mode task when `hostMode` allows
 * it, from an address of the host. Undefined for an unknown id and for a refused one alike.
 */
export function findCredentialsTask(
  tasks: readonly TaskState[],
  id: string,
  remoteAddress: string | undefined,
  isHostAddress: (address: string) => boolean,
  hostMode: boolean,
): TaskState | undefined {
  const wanted = Buffer.from(id);
  const remote = normaliseAddress(remoteAddress);
  let found: TaskState | undefined;
  for (const task of tasks) if (sameToken(wanted, task.credentialsId)) found = task;
  if (!found || remote === '') return undefined;
  const own = found.containers.map((c) => liveAddress(found, c)).filter((a) => a !== undefined);
  if (own.length > 0) return own.includes(remote) ? found : undefined;
  return hostMode && found.spec.networkMode === 'host' && isHostAddress(remote) ? found : undefined;
}
