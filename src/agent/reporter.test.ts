import type { EcsClient } from './aws-json/services.js';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reporter } from './reporter.js';
import { runningTask } from './testing/task-states.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** An ECS client whose SubmitTaskStateChange fails `failures` times (no replica answers), then lands. */
function control(failures: number) {
  const sent: unknown[] = [];
  let left = failures;
  const send = vi.fn(async (_action: string, input: unknown) => {
    if (left-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    sent.push(input);
    return {};
  });
  return { ecs: { send } as unknown as EcsClient, send, sent };
}

describe('reporting task state', () => {
  it('sends no PENDING report for a bridge, host or none task (the control plane shows it PENDING since RunTask); RUNNING carries its timestamps', async () => {
    const { ecs, send, sent } = control(0);
    const reporter = new Reporter(ecs, 'default', pino({ level: 'silent' }));
    for (const networkMode of ['bridge', 'host', 'none'] as const) {
      const task = runningTask(`t-${networkMode}`, { networkMode });
      const pending = { ...task, known: 'PENDING' as const, pullStartedAt: 1_000, containers: task.containers.map((c) => ({ ...c, known: 'CREATED' as const })) };
      reporter.report(pending);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(send).not.toHaveBeenCalled();
      reporter.report({ ...task, pullStartedAt: 1_000 });
      await vi.advanceTimersByTimeAsync(0);
      expect(sent.at(-1)).toMatchObject({ task: task.arn, status: 'RUNNING', pullStartedAt: new Date(1_000) });
      send.mockClear();
    }
    // A PENDING that says more (a container stopped, with its exit code) is sent.
    const task = runningTask('t-exit', { networkMode: 'bridge' });
    reporter.report({ ...task, known: 'PENDING', containers: task.containers.map((c) => ({ ...c, known: 'STOPPED', exitCode: 1 })) });
    await vi.advanceTimersByTimeAsync(0);
    expect(send).toHaveBeenCalledTimes(1);
    reporter.stop();
  });

  it('keeps a report the control plane never took, backing off, and sends it at once when the session reopens', async () => {
    const { ecs, send, sent } = control(5);
    const reporter = new Reporter(ecs, 'default', pino({ level: 'silent' }));
    reporter.report(runningTask('t1'));
    // 250 ms, 500 ms, 1 s, 2 s: four failed attempts; the fifth waits 4 s.
    await vi.advanceTimersByTimeAsync(250 + 500 + 1_000 + 2_000);
    expect(send).toHaveBeenCalledTimes(5);
    expect(sent).toEqual([]);
    reporter.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(send).toHaveBeenCalledTimes(6);
    expect(sent).toMatchObject([{ cluster: 'default', task: runningTask('t1').arn, status: 'RUNNING' }]);
    reporter.stop();
  });

  it('stops retrying at once when the agent stops: no backoff timer outlives it (the next agent reports every task again)', async () => {
    const { ecs, send } = control(1);
    const reporter = new Reporter(ecs, 'default', pino({ level: 'silent' }));
    reporter.report(runningTask('t1'));
    await vi.advanceTimersByTimeAsync(0);
    reporter.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("sends RUNNING at once while the task's PENDING report is still in flight, and neither again", async () => {
    const inputs: { status?: string }[] = [];
    const answers: (() => void)[] = [];
    const send = vi.fn((_action: string, input: { status?: string }) => {
      inputs.push(input);
      return new Promise<object>((resolve) => answers.push(() => resolve({})));
    });
    const reporter = new Reporter({ send } as unknown as EcsClient, 'default', pino({ level: 'silent' }));
    // awsvpc: the control plane shows it PROVISIONING, so PENDING is worth a report.
    const task = runningTask('t1', { networkMode: 'awsvpc' });
    reporter.report({ ...task, known: 'PENDING', containers: task.containers.map((c) => ({ ...c, known: 'PULLED' })) });
    await vi.advanceTimersByTimeAsync(0);
    expect(inputs.map((i) => i.status)).toEqual(['PENDING']);
    // PENDING has not been answered: RUNNING does not wait for it.
    reporter.report(task);
    await vi.advanceTimersByTimeAsync(0);
    expect(inputs.map((i) => i.status)).toEqual(['PENDING', 'RUNNING']);
    answers[1]!();
    answers[0]!();
    await vi.advanceTimersByTimeAsync(0);
    // The same RUNNING state again warrants no request, although PENDING was answered last.
    reporter.report(task);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(send).toHaveBeenCalledTimes(2);
    reporter.stop();
  });
});
