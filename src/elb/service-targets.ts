import { elbKeys } from '../state/elb-keys.js';
import { parseTargetGroup, parseTargetSet, type TargetGroupRecord, type TargetRecord, type TargetSetRecord } from '../state/records/elb.js';
import type { Tx } from '../store/transact.js';
import { parseTargetGroupArn } from './arns.js';
import { deregisterFrom, registerInto } from './target-health.js';

/**
 * The ECS service controller's way into target groups: register and deregister a service's tasks inside the
 * controller's own transaction (one compare-and-swap with its task stops and service record, so a replica that
 * lost the lead, or a concurrent RegisterTargets, makes the whole pass retry). Both are idempotent: a target
 * already registered keeps its record, one already draining keeps its drain deadline.
 */

/** A target of a service task: an instance id (or IP address) and a port. */
export interface ServiceTarget {
  readonly id: string;
  readonly port: number;
}

/** The group named by `arn` (undefined when it is gone or the ARN names an older group of the same name). */
export async function targetGroupInTx(tx: Tx, arn: string): Promise<TargetGroupRecord | undefined> {
  let name: string;
  try {
    name = parseTargetGroupArn(arn).name;
  } catch {
    return undefined;
  }
  const tg = await tx.getRecord(parseTargetGroup, elbKeys.targetGroup(name));
  return tg?.arn === arn ? tg : undefined;
}

/** The stored targets of a group (none when it has no target set yet). */
export async function targetsInTx(tx: Tx, tg: TargetGroupRecord): Promise<readonly TargetRecord[]> {
  return (await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id)))?.targets ?? [];
}

/** The group's deregistration delay in ms (`deregistration_delay.timeout_seconds`, AWS's default 300 s). */
export function deregistrationDelayMs(tg: TargetGroupRecord): number {
  return Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? '300') * 1000;
}

/** Register `targets` in the group at `arn`; returns how many were not registered before (0 when the group is gone). */
export async function registerServiceTargets(tx: Tx, arn: string, targets: readonly ServiceTarget[], now: number): Promise<number> {
  const tg = await targetGroupInTx(tx, arn);
  if (!tg || targets.length === 0) return 0;
  const set = (await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id))) ?? { targetGroupArn: tg.arn, targets: [] };
  const fresh = targets.filter((t) => !set.targets.some((x) => x.id === t.id && x.port === t.port && x.state !== 'draining')).length;
  if (fresh === 0) return 0;
  tx.putJson(elbKeys.targets(tg.id), { ...set, targets: registerInto(set.targets, targets, now) } satisfies TargetSetRecord);
  return fresh;
}

/**
 * Deregister `targets` from the group at `arn`: they drain for the group's deregistration delay (gone at once when
 * no listener uses the group or the delay is 0). Returns how many were registered (and not yet draining), and the
 * time (epoch ms) their draining ends.
 */
export async function deregisterServiceTargets(tx: Tx, arn: string, targets: readonly ServiceTarget[], now: number): Promise<{ count: number; drainedAt: number }> {
  const tg = await targetGroupInTx(tx, arn);
  const set = tg ? await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id)) : undefined;
  if (!tg || !set) return { count: 0, drainedAt: now };
  const hit = set.targets.filter((x) => x.state !== 'draining' && targets.some((t) => t.id === x.id && t.port === x.port));
  const draining = set.targets.filter((x) => x.state === 'draining' && targets.some((t) => t.id === x.id && t.port === x.port));
  const used = tg.usedBy.length > 0;
  const delay = deregistrationDelayMs(tg);
  const drainedAt = Math.max(now + (hit.length > 0 && used ? delay : 0), ...draining.map((x) => x.drainUntil ?? now));
  if (hit.length > 0) tx.putJson(elbKeys.targets(tg.id), { ...set, targets: deregisterFrom(set.targets, hit, now, delay, used) } satisfies TargetSetRecord);
  return { count: hit.length, drainedAt };
}
