/**
 * What the task metadata endpoint answers, without HTTP: a path and the requester's address in, a status
 * and a JSON body out (or a {@link MetadataRequestError} thrown). The server is a thin shell around it,
 * and unit tests drive it with task states built in the test.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { TaskState } from '../task-engine/task-state.js';
import { MetadataNotFoundError, StatsUnavailableError } from './errors.js';
import { formatStats } from './format-stats.js';
import { formatContainer, formatTask, listedContainers, type FormatContext, type MetadataVersion } from './format-task.js';
import { findCredentialsTask, findRequester, hostAddressChecker, type MetadataSource, type Requester } from './lookup.js';
import { credentialsResponse } from '../task-credentials.js';
import type { RoleCredentials, RoleType } from '../../model/acs.js';
import { NO_ROUTE_MESSAGE, notFoundMessage, parseRoute, type MetadataRoute } from './routes.js';
import { StatsSampler, type ReadStats } from './stats-sampler.js';
import type { TagCache, TagLookup } from './tags.js';
import { answerProtection, noTaskAnswer, parseProtectionRequest, protectionToken, undecodableAnswer, type ProtectionAnswer, type ProtectionApi } from './task-protection.js';
import type { DockerStats, MetadataError, TaskMetadata } from './wire.js';

export interface MetadataHandlerOptions {
  readonly source: MetadataSource;
  /** The cluster as configured (its name appears in container labels). */
  readonly clusterName: string;
  readonly availabilityZone: string;
  readonly containerInstanceArn: string;
  /** The runtime's cgroup figures; without it `/stats` answers 500 (as ECS does when it has none). */
  readonly stats?: ReadStats;
  /** Tags for `/taskWithTags`; without it the response has none. */
  readonly tags?: TagCache;
  readonly onlineCpus?: number;
  readonly hostMemoryBytes?: number;
  /** Where a container's unreadable stats in `/task/stats` are reported (the response shows `{}`). */
  readonly log?: Logger;
  /** Tells the host's own addresses (default: this network namespace's interfaces). */
  readonly isHostAddress?: (address: string) => boolean;
  /** The control plane's task protection calls (made with the task role's credentials); without it the protection endpoint answers 404. */
  readonly protection?: ProtectionApi;
  /** Tasks' role credentials (held in memory); without it the credentials endpoint finds none. */
  readonly credentials?: { get(taskArn: string, roleType: RoleType): RoleCredentials | undefined };
  /** Whether host-mode tasks get their role's credentials (ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST). */
  readonly hostModeCredentials?: boolean;
}

/** `/v2/credentials/<id>`: the ECS credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI). */
const CREDENTIALS_PATH = /^\/v2\/credentials\/([^/?]*)\/?(?:\?.*)?$/;

export interface MetadataRequest {
  /** The request's path, query string and all. */
  readonly url: string;
  readonly remoteAddress?: string;
}

export interface MetadataResponse {
  readonly status: number;
  readonly body: unknown;
}

export class MetadataHandler {
  private readonly sampler?: StatsSampler;
  private readonly isHostAddress: (address: string) => boolean;

  constructor(private readonly options: MetadataHandlerOptions) {
    if (options.stats) this.sampler = new StatsSampler(options.stats);
    this.isHostAddress = options.isHostAddress ?? hostAddressChecker();
  }

  /** Answer one request; throws a MetadataRequestError for the error statuses. */
  async handle(request: MetadataRequest): Promise<MetadataResponse> {
    const credentials = CREDENTIALS_PATH.exec(request.url);
    if (credentials) return this.credentials(credentials[1]!, request.remoteAddress);
    const route = parseRoute(request.url);
    if (!route) throw new MetadataNotFoundError(NO_ROUTE_MESSAGE);
    const tasks = this.options.source.tasks();
    const requester = findRequester(tasks, route.token, request.remoteAddress, this.isHostAddress);
    if (!requester) throw new MetadataNotFoundError(notFoundMessage(route));
    return { status: 200, body: await this.answer(route, requester, tasks) };
  }

  /**
   * `${ECS_AGENT_URI}/task-protection/v1/state`: undefined when the path is another; else the answer, a
   * PUT's body decoded before the token is looked at (ECS's agent's order).
   */
  async handleProtection(request: MetadataRequest & { readonly method: string; readonly body: string }): Promise<ProtectionAnswer | undefined> {
    const token = protectionToken(request.url);
    if (token === undefined) return undefined;
    const put = request.method === 'PUT' ? parseProtectionRequest(request.body) : undefined;
    if (request.method === 'PUT' && !put) return undecodableAnswer();
    const requester = findRequester(this.options.source.tasks(), token, request.remoteAddress, this.isHostAddress);
    if (!requester || !this.options.protection) return noTaskAnswer();
    const arn = requester.task.arn;
    return answerProtection(this.options.protection, arn, this.options.credentials?.get(arn, 'TaskApplication'), put ? { method: 'PUT', ...put } : { method: 'GET' });
  }

  /**
   * A task role's credentials, to the task's own containers only. The refusals are the ECS agent's
   * (400, its error shape), alike for an unknown id and a refused requester.
   */
  private credentials(id: string, remoteAddress: string | undefined): MetadataResponse {
    const refuse = (code: string, message: string) => ({ status: 400, body: { code, message, HTTPErrorCode: 400 } });
    if (id === '') return refuse('NoIdInRequest', 'CredentialsV2Request: No ID in the request');
    const task = findCredentialsTask(this.options.source.tasks(), id, remoteAddress, this.isHostAddress, this.options.hostModeCredentials === true);
    const held = task && task.known !== 'STOPPED' ? this.options.credentials?.get(task.arn, 'TaskApplication') : undefined;
    if (!held) return refuse('InvalidIdInRequest', 'CredentialsV2Request: Credentials not found');
    return { status: 200, body: credentialsResponse(held) };
  }

  private async answer(route: MetadataRoute, { task, container }: Requester, tasks: readonly TaskState[]): Promise<unknown> {
    const ctx = this.context(route.version);
    switch (route.resource) {
      case 'container':
        return formatContainer(task, container, ctx);
      case 'task':
        return formatTask(task, ctx);
      case 'taskWithTags':
        return this.withTags(formatTask(task, ctx), route.version);
      case 'stats': {
        if (!container.runtimeId) throw new StatsUnavailableError(`Unable to get container stats for: ${container.name}`);
        const stats = await this.stats(container.runtimeId, route.version, tasks);
        if (!stats) throw new StatsUnavailableError(`Unable to get container stats for: ${container.runtimeId}`);
        return stats;
      }
      case 'taskStats': {
        const entries = await Promise.all(
          // A container without figures (stopped, its cgroups gone) is an empty object, as ECS writes it.
          listedContainers(task).map(async (c) => {
            const stats = await this.stats(c.runtimeId!, route.version, tasks).catch((err: unknown) => {
              this.options.log?.warn({ err, container: c.runtimeId }, 'could not read container stats');
              return undefined;
            });
            return [c.runtimeId!, stats ?? {}] as const;
          }),
        );
        return Object.fromEntries(entries);
      }
    }
  }

  private context(version: MetadataVersion): FormatContext {
    return { version, clusterName: this.options.clusterName, availabilityZone: this.options.availabilityZone };
  }

  private async stats(runtimeId: string, version: MetadataVersion, tasks: readonly TaskState[]): Promise<DockerStats | undefined> {
    if (!this.sampler) return undefined;
    this.sampler.retain(new Set(tasks.flatMap((t) => t.containers.flatMap((c) => (c.runtimeId ? [c.runtimeId] : [])))));
    const sample = await this.sampler.sample(runtimeId);
    if (!sample) return undefined;
    return formatStats({
      id: runtimeId,
      current: sample.current,
      ...(sample.previous ? { previous: sample.previous } : {}),
      onlineCpus: this.options.onlineCpus ?? os.cpus().length,
      hostMemoryBytes: this.options.hostMemoryBytes ?? os.totalmem(),
      networkRates: version === 'v4',
    });
  }

  /** Add TaskTags and ContainerInstanceTags; a failed lookup becomes an Errors entry (v4) or is left out (v3). */
  private async withTags(metadata: TaskMetadata, version: MetadataVersion): Promise<TaskMetadata> {
    const cache = this.options.tags;
    if (!cache) return metadata;
    const instanceArn = this.options.containerInstanceArn;
    const [instance, task] = await Promise.all([cache.lookup(instanceArn), cache.lookup(metadata.TaskARN)]);
    const errors: MetadataError[] = [];
    const take = (lookup: TagLookup, field: string, arn: string): Record<string, string> | undefined => {
      if ('tags' in lookup) return lookup.tags;
      const f = lookup.failure;
      errors.push({
        ErrorField: field,
        ...(f.code ? { ErrorCode: f.code } : {}),
        ErrorMessage: f.message,
        ...(f.statusCode !== undefined ? { StatusCode: f.statusCode } : {}),
        ...(f.requestId ? { RequestId: f.requestId } : {}),
        ResourceARN: arn,
      });
      return undefined;
    };
    const instanceTags = take(instance, 'ContainerInstanceTags', instanceArn);
    const taskTags = take(task, 'TaskTags', metadata.TaskARN);
    return {
      ...metadata,
      ...(taskTags ? { TaskTags: taskTags } : {}),
      ...(instanceTags ? { ContainerInstanceTags: instanceTags } : {}),
      ...(errors.length && version === 'v4' ? { Errors: errors } : {}),
    };
  }
}
