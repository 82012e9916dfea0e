import type { Service } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { CliUsageError, contextOf, ecsClient, explain, peopleCommand, type PeopleContext } from './common.js';
import { clustersOf } from './ps-command.js';
import { age, json, revisionOf, shortArn, status, table, type Paint } from './render.js';

export const SERVICE_HEADERS = ['SERVICE', 'CLUSTER', 'DESIRED', 'RUNNING', 'PENDING', 'ROLLOUT', 'DEFINITION', 'AGE'] as const;

/** One row per service, by cluster then name (pure). */
export function serviceRows(services: readonly Service[], nowMs: number, p: Paint): string[][] {
  return [...services]
    .sort((a, b) => (a.clusterArn ?? '').localeCompare(b.clusterArn ?? '') || (a.serviceName ?? '').localeCompare(b.serviceName ?? ''))
    .map((s) => {
      const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
      return [
        s.serviceName ?? '-',
        shortArn(s.clusterArn),
        String(s.desiredCount ?? 0),
        String(s.runningCount ?? 0),
        String(s.pendingCount ?? 0),
        status(primary?.rolloutState, p),
        revisionOf(primary?.taskDefinition ?? s.taskDefinition),
        age(s.createdAt?.getTime(), nowMs),
      ];
    });
}

async function services(ctx: PeopleContext, cluster: string | undefined): Promise<void> {
  const sdk = await import('@aws-sdk/client-ecs');
  const ecs = await ecsClient(ctx);
  try {
    const found: Service[] = [];
    for (const c of await clustersOf(ecs, cluster)) {
      const arns: string[] = [];
      for await (const page of sdk.paginateListServices({ client: ecs }, { cluster: c })) arns.push(...(page.serviceArns ?? []));
      for (let i = 0; i < arns.length; i += 10) found.push(...((await ecs.send(new sdk.DescribeServicesCommand({ cluster: c, services: arns.slice(i, i + 10) }))).services ?? []));
    }
    if (ctx.output === 'json') return ctx.out(json({ services: found }));
    ctx.out(table(SERVICE_HEADERS, serviceRows(found, ctx.now(), ctx.paint), ctx.paint));
  } catch (error) {
    throw explain(error, ctx);
  } finally {
    ecs.destroy();
  }
}

/** `berth services`: services across clusters with their counts and rollout. */
export function servicesCommand(): Command {
  return peopleCommand('services', 'list services with their desired, running and pending counts and rollout state', { clusterHelp: 'only this cluster (default: every cluster)' }).action(
    async (flags: { cluster?: string; output: 'table' | 'json' }) => {
      const { cluster, ...rest } = flags;
      await services(contextOf(rest), cluster);
    },
  );
}

/** A desired count as typed: a whole number from 0. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliUsageError(`the count '${text}' is not a whole number ≥ 0, e.g. \`berth scale web 3\``);
  return Number(text);
}

/** `berth scale SERVICE N`. */
export function scaleCommand(): Command {
  return peopleCommand('scale', "set a service's desired count")
    .argument('<service>', 'the service name or ARN')
    .argument('<count>', 'the desired count')
    .action(async (service: string, countText: string, flags: { cluster?: string; output: 'table' | 'json' }) => {
      const count = parseCount(countText);
      const ctx = contextOf(flags);
      const sdk = await import('@aws-sdk/client-ecs');
      const ecs = await ecsClient(ctx);
      try {
        const before = (await ecs.send(new sdk.DescribeServicesCommand({ cluster: ctx.settings.cluster, services: [service] }))).services?.[0];
        if (!before || before.status === 'INACTIVE') throw new CliUsageError(`service '${service}' not found in cluster '${ctx.settings.cluster}': \`berth services\` lists them; give --cluster.`);
        const { service: after } = await ecs.send(new sdk.UpdateServiceCommand({ cluster: ctx.settings.cluster, service, desiredCount: count }));
        if (ctx.output === 'json') return ctx.out(json({ service: after }));
        ctx.out(`${after?.serviceName}: desired count ${before.desiredCount} → ${after?.desiredCount} (running ${after?.runningCount}, pending ${after?.pendingCount})\n`);
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        ecs.destroy();
      }
    });
}
