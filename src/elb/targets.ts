import { isIPv4 } from 'node:net';
import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseTargetSet, type TargetGroupRecord, type TargetSetRecord } from '../state/records/elb.js';
import { transact } from '../store/transact.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { targetGroupByArn } from './records.js';
import { deregisterFrom, registerInto, shownHealth } from './target-health.js';

/**
 * RegisterTargets, DeregisterTargets and DescribeTargetHealth. Instance targets are named by EC2-style instance
 * ids, `i-…`: the `ec2InstanceId` each berth container instance has (DescribeContainerInstances shows it), and
 * must be a registered instance's. IP targets are IPv4 addresses (berth has no VPC to hold them to: any unicast
 * address is accepted). A target is an id and a port (the group's port unless given).
 */

interface TargetInput {
  readonly Id: string;
  readonly Port?: number;
  readonly AvailabilityZone?: string;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

function targetOf(tg: TargetGroupRecord, t: TargetInput): { id: string; port: number; availabilityZone?: string } {
  return { id: t.Id, port: t.Port ?? tg.port, ...(t.AvailabilityZone !== undefined ? { availabilityZone: t.AvailabilityZone } : {}) };
}

function isUnicastIPv4(address: string): boolean {
  if (!isIPv4(address)) return false;
  const first = Number(address.split('.')[0]);
  return address !== '0.0.0.0' && address !== '255.255.255.255' && !(first >= 224 && first <= 239);
}

/** The targets of a registration, checked for the group's target type (before the transaction: no I/O inside). */
async function checkTargets(env: ElbEnv, tg: TargetGroupRecord, targets: readonly TargetInput[]): Promise<void> {
  for (const t of targets) {
    if (tg.targetType === 'ip') {
      if (!isUnicastIPv4(t.Id)) throw elbErrors.invalidTarget(`The IP address '${t.Id}' is not a valid IPv4 address`);
    } else if (!INSTANCE_ID.test(t.Id)) {
      throw elbErrors.validation(`Instance ID '${t.Id}' is not valid`);
    }
  }
  if (tg.targetType === 'instance' && env.knownInstance) {
    const unknown: string[] = [];
    for (const t of targets) if (!(await env.knownInstance(t.Id))) unknown.push(t.Id);
    if (unknown.length > 0) throw elbErrors.invalidTarget(`The following targets are not in a running state and can't be registered: '${unknown.join("', '")}'`);
  }
}

export function targetOperations(env: ElbEnv): Record<string, Operation> {
  return {
    async RegisterTargets(input: { TargetGroupArn: string; Targets: TargetInput[] }) {
      const group = await transact(env.store, (tx) => targetGroupByArn(tx, input.TargetGroupArn));
      await checkTargets(env, group, input.Targets);
      const limit = limitsOf(env).targetsPerTargetGroup;
      await transact(env.store, async (tx) => {
        const tg = await targetGroupByArn(tx, input.TargetGroupArn);
        const set = (await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id))) ?? { targetGroupArn: tg.arn, targets: [] };
        const targets = registerInto(
          set.targets,
          input.Targets.map((t) => targetOf(tg, t)),
          env.now(),
        );
        if (targets.length > limit) throw elbErrors.tooMany('TooManyTargets', `You've reached the limit on the number of targets per target group (${limit})`);
        tx.putJson(elbKeys.targets(tg.id), { ...set, targets } satisfies TargetSetRecord);
      });
      return {};
    },

    async DeregisterTargets(input: { TargetGroupArn: string; Targets: TargetInput[] }) {
      await transact(env.store, async (tx) => {
        const tg = await targetGroupByArn(tx, input.TargetGroupArn);
        const set = await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id));
        if (!set) return;
        const delayMs = Number(tg.attributes['deregistration_delay.timeout_seconds'] ?? '300') * 1000;
        const targets = deregisterFrom(
          set.targets,
          input.Targets.map((t) => targetOf(tg, t)),
          env.now(),
          delayMs,
          tg.usedBy.length > 0,
        );
        tx.putJson(elbKeys.targets(tg.id), { ...set, targets } satisfies TargetSetRecord);
      });
      return {};
    },

    async DescribeTargetHealth(input: { TargetGroupArn: string; Targets?: TargetInput[] }) {
      const { tg, set } = await transact(env.store, async (tx) => {
        const tg = await targetGroupByArn(tx, input.TargetGroupArn);
        return { tg, set: await tx.getRecord(parseTargetSet, elbKeys.targets(tg.id)) };
      });
      const used = tg.usedBy.length > 0;
      const registered = set?.targets ?? [];
      const checkPort = (port: number) => (tg.healthCheck.port === 'traffic-port' ? String(port) : tg.healthCheck.port);
      const wanted = input.Targets?.map((t) => targetOf(tg, t));
      const descriptions = (wanted ?? registered).map((w) => {
        const t = registered.find((r) => r.id === w.id && r.port === w.port);
        const Target = { Id: w.id, Port: w.port, ...((t ?? w).availabilityZone !== undefined ? { AvailabilityZone: (t ?? w).availabilityZone } : {}) };
        if (!t) {
          return { Target, HealthCheckPort: checkPort(w.port), TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' } };
        }
        return { Target, HealthCheckPort: checkPort(t.port), TargetHealth: shownHealth(t, used) };
      });
      return { TargetHealthDescriptions: descriptions };
    },
  };
}
