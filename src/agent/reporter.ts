import type { SubmitTaskStateChangeRequest } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import type { EcsClient } from './aws-json/services.js';
import type { StartSpans } from '../process/spans.js';
import type { ContainerKnownStatus, TaskState } from './task-engine/task-state.js';

const containerStatus = (known: ContainerKnownStatus) => (known === 'RUNNING' ? 'RUNNING' : known === 'STOPPED' ? 'STOPPED' : 'PENDING');
const date = (ms: number | undefined) => (ms === undefined ? {} : { at: new Date(ms) });

/** The SubmitTaskStateChange request that tells the control plane a task's whole current state. */
export function stateChangeRequest(cluster: string, s: TaskState): SubmitTaskStateChangeRequest {
  const pullStartedAt = date(s.pullStartedAt).at;
  const pullStoppedAt = date(s.pullStoppedAt).at;
  const executionStoppedAt = date(s.executionStoppedAt).at;
  return {
    cluster,
    task: s.arn,
    status: s.known === 'PROVISIONING' ? 'PENDING' : s.known,
    ...(s.known === 'STOPPED' && s.stopReason ? { reason: s.stopReason } : {}),
    containers: s.containers.map((c) => ({
      containerName: c.name,
      status: containerStatus(c.known),
      ...(c.runtimeId && c.known !== 'NONE' && c.known !== 'PULLED' ? { runtimeId: c.runtimeId } : {}),
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
      networkBindings: c.networkBindings,
    })),
    ...(pullStartedAt ? { pullStartedAt } : {}),
    ...(pullStoppedAt ? { pullStoppedAt } : {}),
    ...(executionStoppedAt ? { executionStoppedAt } : {}),
  };
}

/** Task statuses in the order the control plane lets them move. */
const STATUS_RANK: Readonly<Record<string, number>> = { PENDING: 0, RUNNING: 1, STOPPED: 2 };

/** The parts of a report that change what the control plane does or shows about the task. */
function significance(r: SubmitTaskStateChangeRequest): string {
  return JSON.stringify([
    r.status,
    r.reason,
    r.containers?.map((c) => [c.containerName, c.status, c.exitCode, c.reason, c.networkBindings?.length]),
  ]);
}

/**
 * Sends task state to the control plane. Reports are coalesced per task (only the newest state matters,
 * since the control plane moves statuses forward only), sent one at a time per task, and retried with
 * backoff until they land or a newer report replaces them. Each attempt goes through the agent's failover
 * (control-plane-clients.ts), so a report a dead replica never acknowledged is sent to the next one; a
 * report that did land before its replica died and is sent again is harmless (statuses only move forward).
 */
export class Reporter {
  private readonly pending = new Map<string, SubmitTaskStateChangeRequest>();
  private readonly lastSent = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  /** The status of the report in flight per task, and tasks whose newer status is overtaking it. */
  private readonly flying = new Map<string, string>();
  private readonly overtaking = new Set<string>();
  private stopped = false;
  /** Wakes reports waiting out their backoff (retryNow). */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly ecs: Pick<EcsClient, 'send'>,
    private readonly cluster: string,
    private readonly log: Logger,
    private readonly spans?: StartSpans,
  ) {}

  report(state: TaskState): void {
    const request = stateChangeRequest(this.cluster, state);
    // Only what the control plane acts on warrants a request: statuses, exits, reasons, port bindings.
    // Timestamps and runtime ids ride along with the next such report.
    if (this.lastSent.get(state.arn) === significance(request)) return;
    if (this.saysNothingNew(state, request)) return;
    if (request.status === 'RUNNING') this.spans?.mark(state.arn, 'agent.report.wanted');
    const flying = this.flying.get(state.arn);
    if (flying !== undefined && STATUS_RANK[request.status!]! > STATUS_RANK[flying]! && !this.overtaking.has(state.arn)) {
      // A task that reached RUNNING need not wait for its PENDING report's round trip: the control plane
      // moves statuses forward only, so the older report landing last changes nothing.
      void this.overtake(state.arn, request);
      return;
    }
    this.pending.set(state.arn, request);
    void this.drain(state.arn);
  }

  /**
   * A task the control plane placed in a bridge, host or none network is PENDING from RunTask on, its
   * containers PENDING: a report saying just that (before any report of the task) tells it nothing, and
   * would cost a request and a store commit on the control plane in the middle of every start. Its
   * timestamps, bindings and runtime ids go with the RUNNING (or STOPPED) report. awsvpc tasks start
   * PROVISIONING, so their PENDING is news.
   */
  private saysNothingNew(state: TaskState, request: SubmitTaskStateChangeRequest): boolean {
    if (state.spec.networkMode === 'awsvpc' || request.status !== 'PENDING' || request.reason) return false;
    if (this.lastSent.has(state.arn) || this.pending.has(state.arn) || this.flying.has(state.arn)) return false;
    return (request.containers ?? []).every((c) => c.status === 'PENDING' && c.exitCode === undefined && !c.reason);
  }

  /** Send `request` beside the report in flight; if it fails, it is queued behind it as usual. */
  private async overtake(arn: string, request: SubmitTaskStateChangeRequest): Promise<void> {
    this.overtaking.add(arn);
    try {
      await this.sendOne(arn, request);
    } catch (err) {
      this.log.warn({ err, task: arn }, 'task state report failed; retrying');
      if (!this.pending.has(arn)) this.pending.set(arn, request);
    } finally {
      this.overtaking.delete(arn);
      void this.drain(arn);
    }
  }

  /** One SubmitTaskStateChange; a start's spans are logged once its RUNNING (or STOPPED) report landed. */
  private async sendOne(arn: string, request: SubmitTaskStateChangeRequest): Promise<void> {
    const sentAt = this.spans?.now() ?? 0;
    await this.ecs.send('SubmitTaskStateChange', request);
    if (request.status === 'RUNNING' || request.status === 'STOPPED') {
      this.spans?.end(arn, 'agent.report', sentAt);
      this.spans?.flush(arn);
    }
    // A slower, older report must not make the newer one look unsent (nor the reverse).
    const sent = this.lastSent.get(arn);
    if (sent === undefined || STATUS_RANK[JSON.parse(sent)[0] as string]! <= STATUS_RANK[request.status!]!) this.lastSent.set(arn, significance(request));
    if (request.status === 'STOPPED') this.lastSent.delete(arn);
  }

  /** Resolves when every pending report has been sent (for tests and orderly shutdown). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.size > 0 || this.inFlight.size > 0 || this.overtaking.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  stop(): void {
    this.stopped = true;
    this.retryNow();
  }

  /**
   * Send reports waiting out a backoff now, with the backoff reset: the control plane is reachable again
   * (the session reopened), so a report held back for up to 30 s would only delay what it shows.
   */
  retryNow(): void {
    for (const wake of [...this.waiting]) wake();
  }

  private async drain(arn: string): Promise<void> {
    if (this.inFlight.has(arn)) return;
    this.inFlight.add(arn);
    try {
      let delay = 250;
      for (;;) {
        const request = this.pending.get(arn);
        if (!request || this.stopped) return;
        this.pending.delete(arn);
        this.flying.set(arn, request.status!);
        try {
          await this.sendOne(arn, request);
          delay = 250;
        } catch (err) {
          const name = (err as { name?: string }).name;
          if (name === 'InvalidParameterException' || name === 'ClusterNotFoundException') {
            this.log.warn({ err, task: arn }, 'control plane refused a task state report; dropping it');
            continue;
          }
          this.log.warn({ err, task: arn, retryInMs: delay }, 'task state report failed; retrying');
          if (!this.pending.has(arn)) this.pending.set(arn, request);
          delay = (await this.backoff(delay)) ? 250 : Math.min(delay * 2, 30_000);
        }
      }
    } finally {
      this.inFlight.delete(arn);
      this.flying.delete(arn);
    }
  }

  /** Wait `ms`, or less when retryNow() is called (then resolves true). */
  private backoff(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (early: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(onWake);
        resolve(early);
      };
      const onWake = () => wake(true);
      const timer = setTimeout(() => wake(false), ms);
      this.waiting.add(onWake);
    });
  }
}
