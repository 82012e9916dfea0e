import type { CloudWatchLogsClient, OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { logDestination, type LogDestination } from '../model/log-naming.js';
import { contextOf, explain, peopleCommand } from './people/common.js';
import { sleep } from './people/durations.js';
import type { OutputFormat } from './people/render.js';
import { sdkConfig } from './people/settings.js';

// The SDK packages are loaded when `berth logs` runs, not when this module is: main.ts imports every
// command's module, and `berth agent` would otherwise carry two SDK clients' code it never calls (~2 MiB
// of heap, more of RSS; docs/agent.md, Footprint).
const logsSdk = () => import('@aws-sdk/client-cloudwatch-logs');
const ecsSdk = () => import('@aws-sdk/client-ecs');

/** `berth logs`' settings, compiled from its flags. */
export interface LogsOptions {
  readonly cluster: string;
  /** Task id or ARN. */
  readonly task: string;
  readonly container?: string | undefined;
  readonly follow: boolean;
  /** Only events from the last this many milliseconds. */
  readonly sinceMs?: number | undefined;
  /** Between polls with --follow (default 1 s). */
  readonly pollMs?: number;
  /**
   * With --follow: how long after the task is seen STOPPED, and after the last event, to keep polling
   * before ending. The agent ships a stopped container's last lines within a second or two.
   */
  readonly settleMs?: number;
}

export interface LogsClients {
  readonly ecs: ECSClient;
  readonly logs: CloudWatchLogsClient;
}

/** Where `berth logs` prints: log lines, and notes about the command's own doings. */
export interface LogsOutput {
  /** A log line as printed (container prefix and all), and the event it came from. */
  line(text: string, event?: { container: string; timestamp: number; message: string }): void;
  note(text: string): void;
}

/** A refusal `berth logs` explains to its user (no such task, no such container). */
export class LogsCommandError extends Error {
  override readonly name = 'LogsCommandError';
}

/** One container's place in the log service, and where reading it has got to. */
interface Source {
  readonly name: string;
  readonly destination: LogDestination;
  token?: string | undefined;
  /** Events read but not printed yet (the k-way merge's buffer). */
  buffer: OutputLogEvent[];
  /** Read to the end for now. */
  drained: boolean;
}

const errorName = (e: unknown) => (e as { name?: string })?.name;

/**
 * Print a task's container logs through `write`, oldest first, containers interleaved by time (prefixed
 * with the container's name when there are several). With `follow`, keep polling until the task has
 * STOPPED and its last lines have arrived, or `signal` aborts.
 */
export async function printTaskLogs(options: LogsOptions, clients: LogsClients, out: LogsOutput, signal?: AbortSignal): Promise<void> {
  try {
    await print(options, clients, out, signal);
  } catch (e) {
    // Ctrl-C in the middle of a request: stop quietly.
    if (!signal?.aborted) throw e;
  }
}

async function print(options: LogsOptions, clients: LogsClients, out: LogsOutput, signal: AbortSignal | undefined): Promise<void> {
  const startTime = options.sinceMs === undefined ? undefined : Math.max(0, Date.now() - options.sinceMs);
  let task = await describeTask(clients, options);
  const definitions = await containerDefinitions(clients, task);
  const names = (task.containers ?? []).map((c) => c.name!);
  if (options.container !== undefined && !names.includes(options.container)) {
    throw new LogsCommandError(`task ${task.taskArn} has no container named '${options.container}' (it has: ${names.join(', ')})`);
  }
  const wanted = options.container === undefined ? names : [options.container];
  const prefix = wanted.length > 1 ? (name: string) => `${name} | ` : () => '';
  const sources = new Map<string, Source>();
  const noted = new Set<string>();

  /** Containers get a stream once the agent knows their runtime id (awslogs without a prefix needs it). */
  const refreshSources = () => {
    for (const c of task.containers ?? []) {
      if (!wanted.includes(c.name!) || sources.has(c.name!)) continue;
      const logConfiguration = definitions.get(c.name!);
      const destination = logDestination({
        cluster: task.clusterArn ?? options.cluster,
        family: familyOf(task),
        containerName: c.name!,
        taskArn: task.taskArn!,
        runtimeId: c.runtimeId ?? '',
        logConfiguration,
      });
      if (!destination) {
        if (!noted.has(c.name!)) out.note(`container '${c.name}' has logDriver none; nothing is kept`);
        noted.add(c.name!);
      } else if (destination.stream !== '') {
        sources.set(c.name!, { name: c.name!, destination, buffer: [], drained: false });
      }
    }
  };

  /** The next page of one container; false when there was nothing new. */
  const fetch = async (s: Source): Promise<boolean> => {
    try {
      const page = await clients.logs.send(
        new (await logsSdk()).GetLogEventsCommand({
          logGroupName: s.destination.group,
          logStreamName: s.destination.stream,
          ...(s.token ? { nextToken: s.token } : { startFromHead: true, ...(startTime !== undefined ? { startTime } : {}) }),
        }),
        { abortSignal: signal },
      );
      s.token = page.nextForwardToken;
      s.buffer.push(...(page.events ?? []));
      return (page.events?.length ?? 0) > 0;
    } catch (e) {
      // No stream yet: the container has not written anything (or its agent has not shipped it yet).
      if (errorName(e) === 'ResourceNotFoundException') return false;
      throw e;
    }
  };

  /** Read every source to its current end, printing in time order across them. */
  const drain = async (): Promise<number> => {
    let printed = 0;
    for (const s of sources.values()) s.drained = false;
    for (;;) {
      for (const s of sources.values()) {
        while (!s.drained && s.buffer.length === 0) s.drained = !(await fetch(s));
      }
      let next: Source | undefined;
      for (const s of sources.values()) {
        if (s.buffer.length && (!next || s.buffer[0]!.timestamp! < next.buffer[0]!.timestamp!)) next = s;
      }
      if (!next) return printed;
      const event = next.buffer.shift()!;
      out.line(`${prefix(next.name)}${event.message}`, { container: next.name, timestamp: event.timestamp ?? 0, message: event.message ?? '' });
      printed++;
    }
  };

  refreshSources();
  await drain();
  if (!options.follow) return;

  const pollMs = options.pollMs ?? 1_000;
  const settleMs = options.settleMs ?? 3_000;
  let stoppedAt: number | undefined;
  let lastEventAt = Date.now();
  while (!signal?.aborted) {
    await sleep(pollMs, signal);
    if (signal?.aborted) return;
    task = await describeTask(clients, options);
    refreshSources();
    if ((await drain()) > 0) lastEventAt = Date.now();
    if (task.lastStatus === 'STOPPED') {
      stoppedAt ??= Date.now();
      const now = Date.now();
      if (now - stoppedAt >= settleMs && now - lastEventAt >= settleMs) return;
    }
  }
}

async function describeTask(clients: LogsClients, options: LogsOptions): Promise<Task> {
  let found;
  try {
    found = await clients.ecs.send(new (await ecsSdk()).DescribeTasksCommand({ cluster: options.cluster, tasks: [options.task] }));
  } catch (e) {
    if (errorName(e) === 'ClusterNotFoundException') throw new LogsCommandError(`cluster '${options.cluster}' not found`);
    throw e;
  }
  const task = found.tasks?.[0];
  if (!task) throw new LogsCommandError(`task '${options.task}' not found in cluster '${options.cluster}'`);
  return task;
}

/** Each container's logConfiguration, from the task's task definition. */
async function containerDefinitions(clients: LogsClients, task: Task) {
  const { taskDefinition } = await clients.ecs.send(new (await ecsSdk()).DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }));
  return new Map((taskDefinition?.containerDefinitions ?? []).map((c) => [c.name!, c.logConfiguration]));
}

/** `arn:…:task-definition/web:3` → `web`. */
const familyOf = (task: Task) => task.taskDefinitionArn?.split('/').at(-1)?.split(':')[0] ?? '';

/** `90s`, `10m`, `1h30m`, `2d` → milliseconds. */
export function parseSince(value: string): number {
  const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const re = /(\d+)([smhd])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (value === '' || consumed !== value.length) throw new LogsCommandError(`--since: '${value}' is not a duration (like 90s, 10m, 1h30m, 2d)`);
  return total;
}

interface LogsFlags {
  endpoint?: string;
  cluster?: string;
  region?: string;
  output: OutputFormat;
  container?: string;
  follow?: boolean;
  since?: string;
}

export function logsCommand(): Command {
  return peopleCommand('logs', "print a task's container logs (from the control plane's CloudWatch Logs API)", { clusterHelp: 'the cluster the task runs in (default: $BERTH_CLUSTER, default)' })
    .argument('<task>', 'task id or ARN')
    .option('--container <name>', 'only this container')
    .option('-f, --follow', 'keep printing new lines until the task has stopped (or Ctrl-C)')
    .option('--since <duration>', 'only lines from the last duration (90s, 10m, 1h30m, 2d)')
    .addHelpText('after', '\nWith -o json: one JSON object a line ({"container","timestamp","message"}), as they come.')
    .action(async (task: string, flags: LogsFlags) => {
      const ctx = contextOf(flags);
      const options: LogsOptions = {
        cluster: ctx.settings.cluster,
        task,
        container: flags.container,
        follow: flags.follow ?? false,
        sinceMs: flags.since === undefined ? undefined : parseSince(flags.since),
      };
      const config = sdkConfig(ctx.settings);
      const [{ ECSClient }, { CloudWatchLogsClient }] = await Promise.all([ecsSdk(), logsSdk()]);
      const clients = { ecs: new ECSClient(config), logs: new CloudWatchLogsClient(config) };
      const aborted = new AbortController();
      const interrupt = () => aborted.abort();
      process.once('SIGINT', interrupt);
      try {
        const out: LogsOutput = {
          line: (text, event) =>
            process.stdout.write(ctx.output === 'json' && event ? `${JSON.stringify({ ...event, timestamp: new Date(event.timestamp).toISOString() })}\n` : `${text}\n`),
          note: (text) => process.stderr.write(`berth: ${text}\n`),
        };
        await printTaskLogs(options, clients, out, aborted.signal);
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        process.off('SIGINT', interrupt);
        clients.ecs.destroy();
        clients.logs.destroy();
      }
      if (aborted.signal.aborted) process.exitCode = 130;
    });
}
