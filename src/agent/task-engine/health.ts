import type { HealthCheck } from '@aws-sdk/client-ecs';
import type { Runtime } from '../../runtime/runtime.js';
import { systemTimers, type TimerHandle, type Timers } from './timers.js';

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';

/**
 * Container health, as Docker (and so ECS) keeps it:
 *
 *   UNKNOWN ──check passes──▶ HEALTHY ──`retries` failures in a row──▶ UNHEALTHY ──check passes──▶ HEALTHY
 *
 * Failures during the start period do not count; a pass during it ends it.
 */
export interface HealthState {
  readonly status: HealthStatus;
  readonly failures: number;
}

export const initialHealth: HealthState = { status: 'UNKNOWN', failures: 0 };

export function nextHealth(state: HealthState, passed: boolean, inStartPeriod: boolean, retries: number): HealthState {
  if (passed) return { status: 'HEALTHY', failures: 0 };
  if (inStartPeriod) return state;
  const failures = state.failures + 1;
  return { status: failures >= retries ? 'UNHEALTHY' : state.status, failures };
}

/** The command a health check runs: `CMD` args as they are, `CMD-SHELL` through /bin/sh -c. */
export function healthCommand(check: HealthCheck): string[] {
  const [kind, ...rest] = check.command ?? [];
  return kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest;
}

/** Seconds, as ECS defaults them. */
export const healthDefaults = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;

/**
 * Runs one container's health check inside it every `interval` seconds (the first after one interval),
 * with a `timeout`, and calls `onChange` whenever the status changes. Runs until stopped.
 */
export class HealthMonitor {
  private state: HealthState = initialHealth;
  private timer?: TimerHandle;
  private stopped = false;

  constructor(
    private readonly runtime: Pick<Runtime, 'exec'>,
    private readonly runtimeId: string,
    private readonly check: HealthCheck,
    /** Epoch ms the container started (the start period counts from there). */
    private readonly startedAt: number,
    private readonly onChange: (status: HealthStatus) => void,
    private readonly now: () => number = Date.now,
    private readonly timers: Timers = systemTimers,
  ) {}

  start(initial: HealthStatus = 'UNKNOWN'): void {
    this.state = { status: initial, failures: 0 };
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
  }

  get status(): HealthStatus {
    return this.state.status;
  }

  private schedule(): void {
    if (this.stopped) return;
    const interval = (this.check.interval ?? healthDefaults.interval) * 1000;
    this.timer = this.timers.setTimeout(() => void this.run(), interval);
  }

  private async run(): Promise<void> {
    const timeoutMs = (this.check.timeout ?? healthDefaults.timeout) * 1000;
    let passed = false;
    try {
      const result = await this.runtime.exec(this.runtimeId, healthCommand(this.check), { timeoutMs });
      passed = !result.timedOut && result.exitCode === 0;
    } catch {
      passed = false;
    }
    if (this.stopped) return;
    const inStartPeriod = this.now() - this.startedAt < (this.check.startPeriod ?? healthDefaults.startPeriod) * 1000;
    const next = nextHealth(this.state, passed, inStartPeriod, this.check.retries ?? healthDefaults.retries);
    const changed = next.status !== this.state.status;
    this.state = next;
    if (changed) this.onChange(next.status);
    this.schedule();
  }
}
