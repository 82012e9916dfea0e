/**
 * Where a deployment `berth deploy` started has got to, from the service as DescribeServices shows it, and how to
 * draw that. Pure.
 *
 *   watching ──(its rolloutState COMPLETED)──────────────────────────▶ done      (exit 0)
 *       │
 *       ├──(its rolloutState FAILED: circuit breaker, stopped deployment)▶ failed (exit 1)
 *       └──(another deployment PRIMARY, or it left the list)─────────▶ replaced (exit 1)
 *
 * A deployment the circuit breaker failed can leave the list before it is seen FAILED (the rollback completes at
 * once when the old tasks still run): the service's event `(deployment ID) deployment failed: …` says so then.
 */
import type { Deployment, Service, ServiceEvent } from '@aws-sdk/client-ecs';
import type { Paint } from './render.js';

export const ROLLOUT_OUTCOMES = ['watching', 'done', 'failed', 'replaced'] as const;
export type RolloutOutcome = (typeof ROLLOUT_OUTCOMES)[number];

export interface RolloutView {
  readonly outcome: RolloutOutcome;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly failed: number;
  /** The deployment's rolloutState (`-` once it has left the list). */
  readonly state: string;
  readonly reason?: string | undefined;
  /** The deployment that is PRIMARY now, when it is not ours. */
  readonly primary?: Deployment | undefined;
}

/** The view of deployment `id` in `service`; once it has left the list, its counts as `previous` saw them. */
export function rolloutView(service: Service, id: string, previous?: RolloutView): RolloutView {
  const ours = service.deployments?.find((d) => d.id === id);
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  const counts = ours
    ? {
        desired: ours.desiredCount ?? 0,
        running: ours.runningCount ?? 0,
        pending: ours.pendingCount ?? 0,
        failed: ours.failedTasks ?? 0,
        state: ours.rolloutState ?? '-',
        reason: ours.rolloutStateReason,
      }
    : { desired: previous?.desired ?? 0, running: 0, pending: 0, failed: previous?.failed ?? 0, state: '-', reason: undefined };
  const failedEvent = ours ? undefined : service.events?.find((e) => e.message?.includes(`(deployment ${id}) deployment failed: `));
  if (failedEvent) return { outcome: 'failed', ...counts, state: 'FAILED', reason: failedEvent.message!.split('deployment failed: ')[1], primary };
  if (ours?.rolloutState === 'FAILED') return { outcome: 'failed', ...counts, primary: primary?.id === id ? undefined : primary };
  if (!ours || ours.status !== 'PRIMARY') return { outcome: 'replaced', ...counts, primary };
  if (ours.rolloutState === 'COMPLETED') return { outcome: 'done', ...counts };
  return { outcome: 'watching', ...counts };
}

const BAR_WIDTH = 24;

/** `[████████░░░░]`: the share of desired tasks running; the pending share half-shaded. */
export function bar(view: Pick<RolloutView, 'desired' | 'running' | 'pending'>, p: Paint): string {
  const of = Math.max(view.desired, 1);
  const running = Math.min(BAR_WIDTH, Math.round((Math.min(view.running, of) / of) * BAR_WIDTH));
  const pending = Math.min(BAR_WIDTH - running, Math.round((Math.min(view.pending, of) / of) * BAR_WIDTH));
  return `[${p('green', '█'.repeat(running))}${p('yellow', '▒'.repeat(pending))}${'░'.repeat(BAR_WIDTH - running - pending)}]`;
}

/** The line a terminal redraws: bar, counts, state and time so far. */
export function progressLine(name: string, view: RolloutView, elapsedMs: number, p: Paint): string {
  return `${name} ${bar(view, p)} ${countsText(view, p)} · ${stateText(view, p)} · ${Math.floor(elapsedMs / 1000)}s`;
}

/** The line a pipe gets, printed only when it changes (so no time in it). */
export function plainLine(name: string, view: RolloutView): string {
  return `${name}: ${view.running}/${view.desired} running, ${view.pending} pending, ${view.failed} failed (${view.state})`;
}

function countsText(view: RolloutView, p: Paint): string {
  const failed = view.failed > 0 ? ` · ${p('red', `${view.failed} failed`)}` : '';
  return `${view.running}/${view.desired} running · ${view.pending} pending${failed}`;
}

function stateText(view: RolloutView, p: Paint): string {
  if (view.state === 'COMPLETED') return p('green', view.state);
  if (view.state === 'FAILED') return p('red', view.state);
  return p('yellow', view.state);
}

/** The service's events after `sinceMs` not yet in `seen`, oldest first (ECS lists newest first); adds them to `seen`. */
export function newEvents(service: Service, sinceMs: number, seen: Set<string>): ServiceEvent[] {
  const fresh = (service.events ?? []).filter((e) => (e.createdAt?.getTime() ?? 0) >= sinceMs && e.id !== undefined && !seen.has(e.id));
  for (const e of fresh) seen.add(e.id!);
  return fresh.reverse();
}
