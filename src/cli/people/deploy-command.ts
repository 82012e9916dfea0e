import type { ECSClient, Service, Task } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { CliUsageError, contextOf, ecsClient, explain, peopleCommand, serviceNotFound, type PeopleContext } from './common.js';
import { nextRevision, targetContainer } from './deploy-revision.js';
import { liveLine, type LineStream } from './live-line.js';
import { paint, json, revisionOf, wantColour } from './render.js';
import { newEvents, plainLine, progressLine, rolloutView, type RolloutView } from './rollout.js';
import { parseDuration, sleep } from './durations.js';

interface DeployFlags {
  endpoint?: string;
  region?: string;
  cluster?: string;
  output: 'table' | 'json';
  image: string;
  container?: string;
  wait: boolean;
  timeout: string;
  poll: string;
}

interface DeployResult {
  readonly service: string;
  readonly taskDefinition: string;
  readonly deploymentId: string;
  readonly outcome: RolloutView['outcome'] | 'started' | 'timeout';
  readonly view?: RolloutView;
}

/** `berth deploy SERVICE --image REF`: a new revision with the image, the service updated, the rollout watched. */
export function deployCommand(): Command {
  return peopleCommand('deploy', "roll a new image out to a service: register a revision of its task definition with the image, update the service and watch the rollout until it is steady")
    .argument('<service>', 'the service name or ARN')
    .requiredOption('--image <ref>', 'the image, e.g. 127.0.0.1:7400/web:v2 (`berth push` puts one in the registry)')
    .option('--container <name>', 'the container that gets the image (needed when the task definition has several)')
    .option('--no-wait', 'return once the service is updated, without watching the rollout')
    .option('--timeout <duration>', 'give up watching after this long (the rollout goes on)', '15m')
    .option('--poll <duration>', 'how often to look at the service', '1s')
    .addHelpText('after', '\nExit status: 0 when the rollout completed; 1 when it failed (circuit breaker), was rolled back or replaced, or the timeout passed.')
    .action(async (service: string, flags: DeployFlags) => {
      const ctx = contextOf(flags);
      const ecs = await ecsClient(ctx);
      const interrupted = new AbortController();
      const interrupt = () => interrupted.abort();
      process.once('SIGINT', interrupt);
      try {
        const result = await deploy(ecs, ctx, service, flags, interrupted.signal);
        if (ctx.output === 'json') ctx.out(json(result));
        if (interrupted.signal.aborted) process.exitCode = 130;
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        process.off('SIGINT', interrupt);
        ecs.destroy();
      }
    });
}

async function deploy(ecs: ECSClient, ctx: PeopleContext, name: string, flags: DeployFlags, signal: AbortSignal): Promise<DeployResult> {
  const sdk = await import('@aws-sdk/client-ecs');
  const cluster = ctx.settings.cluster;
  const before = (await ecs.send(new sdk.DescribeServicesCommand({ cluster, services: [name] }))).services?.[0];
  if (!before || before.status === 'INACTIVE') throw serviceNotFound(name, cluster);
  const described = await ecs.send(new sdk.DescribeTaskDefinitionCommand({ taskDefinition: before.taskDefinition, include: ['TAGS'] }));
  const current = described.taskDefinition!;
  const container = targetContainer(current, flags.container);
  const registered = (await ecs.send(new sdk.RegisterTaskDefinitionCommand(nextRevision(current, container, flags.image, described.tags)))).taskDefinition!;
  const startedAt = ctx.now();
  const updated = (await ecs.send(new sdk.UpdateServiceCommand({ cluster, service: name, taskDefinition: registered.taskDefinitionArn }))).service!;
  const deploymentId = updated.deployments?.find((d) => d.status === 'PRIMARY')?.id ?? '';
  const base = { service: updated.serviceName ?? name, taskDefinition: registered.taskDefinitionArn!, deploymentId };
  // Progress goes where the result does not: stdout for people, stderr when stdout carries JSON.
  const stream: LineStream = ctx.output === 'json' ? process.stderr : process.stdout;
  const p = paint(wantColour(stream, process.env));
  const line = liveLine(stream);
  line.note(`${base.service}: ${container} → ${flags.image} in ${revisionOf(registered.taskDefinitionArn)} (was ${revisionOf(current.taskDefinitionArn)}); deployment ${deploymentId}`);
  if (!flags.wait) return { ...base, outcome: 'started' };

  const deadline = startedAt + parseDuration(flags.timeout, '--timeout');
  const pollMs = parseDuration(flags.poll, '--poll');
  const seen = new Set<string>();
  let service: Service = updated;
  let view = rolloutView(service, deploymentId);
  for (;;) {
    for (const e of newEvents(service, startedAt - 1000, seen)) line.note(p('dim', e.message ?? ''));
    line.update(progressLine(base.service, view, ctx.now() - startedAt, p), plainLine(base.service, view));
    if (view.outcome !== 'watching' || signal.aborted) break;
    if (ctx.now() >= deadline) {
      line.end();
      throw new CliUsageError(`${base.service}: deployment ${deploymentId} still ${view.state} after ${flags.timeout}; it goes on (\`berth services\` shows it; give a longer --timeout to keep watching)`);
    }
    await sleep(pollMs, signal);
    const found = (await ecs.send(new sdk.DescribeServicesCommand({ cluster, services: [name] }))).services?.[0];
    if (!found) throw serviceNotFound(name, cluster);
    service = found;
    view = rolloutView(service, deploymentId, view);
  }
  line.end();
  if (signal.aborted) {
    line.note(`stopped watching; deployment ${deploymentId} goes on (\`berth services\` shows it)`);
    return { ...base, outcome: 'watching', view };
  }
  if (view.outcome === 'done') {
    if (ctx.output === 'table') ctx.out(`${p('green', '✓')} ${base.service}: ${revisionOf(registered.taskDefinitionArn)} rolled out, ${view.running}/${view.desired} running, in ${Math.round((ctx.now() - startedAt) / 1000)}s\n`);
    return { ...base, outcome: 'done', view };
  }
  throw new CliUsageError(await failureMessage(ecs, cluster, base.service, deploymentId, view));
}

/** Why the rollout did not complete, what the service did about it, and why its last task stopped. */
async function failureMessage(ecs: ECSClient, cluster: string, service: string, id: string, view: RolloutView): Promise<string> {
  const head =
    view.outcome === 'failed'
      ? `deployment ${id} of ${service} failed: ${view.reason ?? 'no reason given'}`
      : `deployment ${id} of ${service} is no longer the service's primary deployment`;
  const back = view.primary ? `; the service is back on ${revisionOf(view.primary.taskDefinition)} (deployment ${view.primary.id})` : '';
  const stopped = await lastStoppedTask(ecs, cluster, id);
  const why = stopped ? `\nits last stopped task ${stopped.taskArn?.split('/').at(-1)}: ${stopReason(stopped)} — \`berth logs ${stopped.taskArn?.split('/').at(-1)}\` shows its output` : '';
  return `${head}${back}${why}\n\`berth ps --all\` lists the stopped tasks; \`aws ecs describe-services\` has the service's events`;
}

async function lastStoppedTask(ecs: ECSClient, cluster: string, deploymentId: string): Promise<Task | undefined> {
  const sdk = await import('@aws-sdk/client-ecs');
  const { taskArns = [] } = await ecs.send(new sdk.ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus: 'STOPPED' }));
  if (taskArns.length === 0) return undefined;
  const { tasks = [] } = await ecs.send(new sdk.DescribeTasksCommand({ cluster, tasks: taskArns.slice(0, 100) }));
  return tasks.sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))[0];
}

/** `Essential container in task exited (app exited with 3)`. */
export function stopReason(task: Task): string {
  const exits = (task.containers ?? [])
    .filter((c) => c.exitCode !== undefined || c.reason)
    .map((c) => `${c.name} ${c.exitCode !== undefined ? `exited with ${c.exitCode}` : c.reason}`);
  return `${task.stoppedReason ?? task.stopCode ?? 'stopped'}${exits.length ? ` (${exits.join(', ')})` : ''}`;
}
