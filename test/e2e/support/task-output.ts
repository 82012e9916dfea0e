import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ListTasksCommand, StopTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';

/**
 * What e2e files that run probe containers on one agent share: waiting for a task's state, reading what a
 * container printed (shipped through the Logs API), and stopping what is left at the end. `context` adds to
 * a timeout's message (the agent's last stderr, say).
 */

/** The task once `check` holds, polled every 200 ms; throws with the last state seen after `timeoutMs`. */
export async function waitForTask(ecs: ECSClient, arn: string, check: (t: Task) => boolean, timeoutMs = 60_000, context: () => string = () => ''): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let last: Task | undefined;
  while (Date.now() < deadline) {
    last = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks?.[0];
    if (last && check(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`task ${arn} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${context()}`);
}

/**
 * A container's output lines `<KEY> <rest>` by key, once a line starting with `until` has been shipped to
 * `group`/`stream` (berth's default names: `/berth/<cluster>`, `<family>/<container>/<task id>`).
 */
export async function containerOutput(
  logs: CloudWatchLogsClient,
  where: { readonly group: string; readonly stream: string },
  until: string,
  timeoutMs = 60_000,
  context: () => string = () => '',
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: where.group, logStreamName: where.stream, startFromHead: true })).catch(() => ({ events: [] }));
    lines = (got.events ?? []).map((e) => e.message ?? '');
    if (lines.some((l) => l.startsWith(until))) return Object.fromEntries(lines.map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]));
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no '${until}' from ${where.group} ${where.stream} in ${timeoutMs} ms; lines: ${JSON.stringify(lines)}\n${context()}`);
}

/** Stop every RUNNING task of the default cluster and wait for each to be STOPPED (teardown: failures ignored). */
export async function stopRunningTasks(ecs: ECSClient): Promise<void> {
  const { taskArns = [] } = await ecs.send(new ListTasksCommand({ desiredStatus: 'RUNNING' })).catch(() => ({ taskArns: [] }));
  for (const task of taskArns) await ecs.send(new StopTaskCommand({ task })).catch(() => {});
  for (const arn of taskArns) await waitForTask(ecs, arn, (t) => t.lastStatus === 'STOPPED').catch(() => {});
}
