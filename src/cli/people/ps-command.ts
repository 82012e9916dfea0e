import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { contextOf, ecsClient, explain, peopleCommand, type PeopleContext } from './common.js';
import { age, json, revisionOf, shortArn, status, table, type Paint } from './render.js';

export const TASK_HEADERS = ['TASK', 'CLUSTER', 'DEFINITION', 'STATUS', 'DESIRED', 'HEALTH', 'GROUP', 'AGE'] as const;

/** One row per task, newest first (pure). */
export function taskRows(tasks: readonly Task[], nowMs: number, p: Paint): string[][] {
  return [...tasks]
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))
    .map((t) => [
      shortArn(t.taskArn),
      shortArn(t.clusterArn),
      revisionOf(t.taskDefinitionArn),
      status(t.lastStatus, p),
      t.desiredStatus ?? '-',
      status(t.healthStatus, p),
      t.group ?? '-',
      age((t.startedAt ?? t.createdAt)?.getTime(), nowMs),
    ]);
}

/** The tasks of `clusters` (RUNNING desired, and STOPPED too with `all`), described 100 at a time. */
export async function listTasks(ecs: ECSClient, clusters: readonly string[], all: boolean): Promise<Task[]> {
  const sdk = await import('@aws-sdk/client-ecs');
  const out: Task[] = [];
  for (const cluster of clusters) {
    const arns: string[] = [];
    for (const desiredStatus of all ? (['RUNNING', 'STOPPED'] as const) : (['RUNNING'] as const)) {
      for await (const page of sdk.paginateListTasks({ client: ecs }, { cluster, desiredStatus })) arns.push(...(page.taskArns ?? []));
    }
    for (let i = 0; i < arns.length; i += 100) {
      const { tasks = [] } = await ecs.send(new sdk.DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
      out.push(...tasks);
    }
  }
  return out;
}

/** Every cluster's ARN, or just the one named. */
export async function clustersOf(ecs: ECSClient, named: string | undefined): Promise<string[]> {
  if (named !== undefined) return [named];
  const sdk = await import('@aws-sdk/client-ecs');
  const arns: string[] = [];
  for await (const page of sdk.paginateListClusters({ client: ecs }, {})) arns.push(...(page.clusterArns ?? []));
  return arns;
}

async function ps(ctx: PeopleContext, options: { cluster?: string; all: boolean }): Promise<void> {
  const ecs = await ecsClient(ctx);
  try {
    const tasks = await listTasks(ecs, await clustersOf(ecs, options.cluster), options.all);
    if (ctx.output === 'json') return ctx.out(json({ tasks }));
    ctx.out(table(TASK_HEADERS, taskRows(tasks, ctx.now(), ctx.paint), ctx.paint));
  } catch (error) {
    throw explain(error, ctx);
  } finally {
    ecs.destroy();
  }
}

/** `berth ps`: tasks across clusters, as `docker ps` shows containers. */
export function psCommand(): Command {
  return peopleCommand('ps', 'list tasks across clusters (running ones; --all adds stopped)', { clusterHelp: 'only this cluster (default: every cluster)' })
    .option('-a, --all', 'stopped tasks too (ECS keeps them for an hour)', false)
    .action(async (flags: { cluster?: string; all: boolean; output: 'table' | 'json' }) => {
      const { cluster, ...rest } = flags;
      await ps(contextOf(rest), { ...(cluster !== undefined ? { cluster } : {}), all: flags.all });
    });
}
