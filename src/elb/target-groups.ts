import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseTargetGroup, type ElbProtocol, type ElbTag, type TargetGroupRecord, type TargetSetRecord } from '../state/records/elb.js';
import { transact } from '../store/transact.js';
import { elbArns, loadBalancerArnOf, newElbId, parseLoadBalancerArn, parseTargetGroupArn } from './arns.js';
import { attributeList, isHttpProtocol, modifyTargetGroupAttributes, targetGroupDefaults } from './attributes.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { healthCheckOf, healthCheckShape, type HealthCheckInput } from './health-check.js';
import { elbPage } from './paging.js';
import { listAll, loadBalancerByArn, targetGroupByArn } from './records.js';
import { initialTags } from './tags.js';

/**
 * Target groups: HTTP and HTTPS (Application Load Balancers), TCP, TLS, UDP and TCP_UDP (Network Load
 * Balancers), with `instance` or `ip` targets. berth has no VPC: VpcId is recorded as given and not required.
 * Its load balancers are those of the listeners and rules forwarding to it (`usedBy`).
 */

const PROTOCOLS: readonly ElbProtocol[] = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'];
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/** The load balancers a group's users belong to. */
export const loadBalancersOf = (tg: TargetGroupRecord): string[] => [...new Set(tg.usedBy.map(loadBalancerArnOf))];

export function targetGroupShape(tg: TargetGroupRecord): object {
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    ...(tg.vpcId !== undefined ? { VpcId: tg.vpcId } : {}),
    ...healthCheckShape(tg.healthCheck),
    LoadBalancerArns: loadBalancersOf(tg),
    TargetType: tg.targetType,
    ...(tg.protocolVersion !== undefined ? { ProtocolVersion: tg.protocolVersion } : {}),
    IpAddressType: tg.ipAddressType,
  };
}

interface CreateInput extends HealthCheckInput {
  Name: string;
  Protocol?: string;
  ProtocolVersion?: string;
  Port?: number;
  VpcId?: string;
  TargetType?: string;
  Tags?: ElbTag[];
  IpAddressType?: string;
}

function checkCreate(input: CreateInput): { protocol: ElbProtocol; port: number; targetType: 'instance' | 'ip' } {
  if (!NAME.test(input.Name)) {
    throw elbErrors.validation(`Target group name '${input.Name}' must have at most 32 characters, only alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
  }
  const targetType = input.TargetType ?? 'instance';
  if (targetType !== 'instance' && targetType !== 'ip') throw elbErrors.validation(`berth does not support target type '${targetType}'`);
  if (input.Protocol === undefined) throw elbErrors.validation(`A protocol must be specified for target groups with target type '${targetType}'`);
  if (!(PROTOCOLS as readonly string[]).includes(input.Protocol)) throw elbErrors.unsupportedProtocol(input.Protocol);
  if (input.Port === undefined) throw elbErrors.validation(`A port must be specified for target groups with target type '${targetType}'`);
  const protocol = input.Protocol as ElbProtocol;
  if (input.ProtocolVersion !== undefined) {
    if (!isHttpProtocol(protocol)) throw elbErrors.validation('A protocol version can only be specified for target groups with the protocol HTTP or HTTPS');
    if (!['HTTP1', 'HTTP2', 'GRPC'].includes(input.ProtocolVersion)) throw elbErrors.validation(`Protocol version '${input.ProtocolVersion}' must be one of HTTP1, HTTP2, GRPC`);
  }
  if (input.IpAddressType !== undefined && input.IpAddressType !== 'ipv4') throw elbErrors.validation("berth supports target groups of IP address type 'ipv4' only");
  return { protocol, port: input.Port, targetType };
}

/** CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup, DeleteTargetGroup and their attributes. */
export function targetGroupOperations(env: ElbEnv): Record<string, Operation> {
  return {
    async CreateTargetGroup(input: CreateInput) {
      const { protocol, port, targetType } = checkCreate(input);
      const healthCheck = healthCheckOf(protocol, input);
      const tags = initialTags(env, input.Tags);
      const id = newElbId();
      const tg: TargetGroupRecord = {
        arn: elbArns.targetGroup(env.scope, input.Name, id),
        name: input.Name,
        id,
        protocol,
        ...(isHttpProtocol(protocol) ? { protocolVersion: input.ProtocolVersion ?? 'HTTP1' } : {}),
        port,
        targetType,
        ...(input.VpcId !== undefined ? { vpcId: input.VpcId } : {}),
        ipAddressType: 'ipv4',
        healthCheck,
        attributes: targetGroupDefaults(protocol, targetType),
        tags,
        usedBy: [],
        createdTime: env.now(),
      };
      const created = await transact(env.store, async (tx) => {
        const existing = await tx.getRecord(parseTargetGroup, elbKeys.targetGroup(tg.name));
        if (existing) {
          // The same request again is answered with the existing group, as AWS does.
          const same = existing.protocol === tg.protocol && existing.port === tg.port && existing.targetType === tg.targetType && JSON.stringify(existing.healthCheck) === JSON.stringify(tg.healthCheck);
          if (!same) throw elbErrors.duplicateTg();
          return existing;
        }
        const count = (await tx.range(elbKeys.targetGroups())).entries.length;
        if (count >= limitsOf(env).targetGroups) throw elbErrors.tooMany('TooManyTargetGroups', `You have reached the limit of ${limitsOf(env).targetGroups} target groups`);
        tx.putJson(elbKeys.targetGroup(tg.name), tg);
        tx.putJson(elbKeys.targets(tg.id), { targetGroupArn: tg.arn, targets: [] } satisfies TargetSetRecord);
        return tg;
      });
      return { TargetGroups: [targetGroupShape(created)] };
    },

    async DescribeTargetGroups(input: { LoadBalancerArn?: string; TargetGroupArns?: string[]; Names?: string[]; Marker?: string; PageSize?: number }) {
      const given = [input.LoadBalancerArn, input.TargetGroupArns, input.Names].filter((x) => x !== undefined).length;
      if (given > 1) throw elbErrors.validation('Only one of load balancer ARN, target group ARNs or names can be specified');
      let tgs = await listAll(env.store, elbKeys.targetGroups(), parseTargetGroup);
      if (input.TargetGroupArns !== undefined) {
        for (const arn of input.TargetGroupArns) parseTargetGroupArn(arn);
        const missing = input.TargetGroupArns.filter((arn) => !tgs.some((tg) => tg.arn === arn));
        if (missing.length > 0) throw elbErrors.tgNotFound(`Target groups '[${missing.join(', ')}]' not found`);
        tgs = tgs.filter((tg) => input.TargetGroupArns!.includes(tg.arn));
      } else if (input.Names !== undefined) {
        const missing = input.Names.filter((n) => !tgs.some((tg) => tg.name.toLowerCase() === n.toLowerCase()));
        if (missing.length > 0) throw elbErrors.tgNotFound(`Target groups '[${missing.join(', ')}]' not found`);
        const folded = input.Names.map((n) => n.toLowerCase());
        tgs = tgs.filter((tg) => folded.includes(tg.name.toLowerCase()));
      } else if (input.LoadBalancerArn !== undefined) {
        parseLoadBalancerArn(input.LoadBalancerArn);
        const lbArn = input.LoadBalancerArn;
        await transact(env.store, (tx) => loadBalancerByArn(tx, lbArn));
        tgs = tgs.filter((tg) => loadBalancersOf(tg).includes(lbArn));
      }
      const { items, NextMarker } = elbPage(tgs, (tg) => tg.name.toLowerCase(), input);
      return { TargetGroups: items.map(targetGroupShape), ...(NextMarker ? { NextMarker } : {}) };
    },

    async ModifyTargetGroup(input: HealthCheckInput & { TargetGroupArn: string }) {
      const tg = await transact(env.store, async (tx) => {
        const current = await targetGroupByArn(tx, input.TargetGroupArn);
        const updated: TargetGroupRecord = { ...current, healthCheck: healthCheckOf(current.protocol, input, current.healthCheck) };
        tx.putJson(elbKeys.targetGroup(current.name), updated);
        return updated;
      });
      return { TargetGroups: [targetGroupShape(tg)] };
    },

    async DeleteTargetGroup(input: { TargetGroupArn: string }) {
      const ref = parseTargetGroupArn(input.TargetGroupArn);
      await transact(env.store, async (tx) => {
        const tg = await tx.getRecord(parseTargetGroup, elbKeys.targetGroup(ref.name));
        // Deleting a group that is gone succeeds, as AWS's does.
        if (!tg || tg.arn !== input.TargetGroupArn) return;
        if (tg.usedBy.length > 0) throw elbErrors.resourceInUse(`Target group '${tg.arn}' is currently in use by a listener or a rule`);
        tx.delete(elbKeys.targetGroup(tg.name));
        tx.delete(elbKeys.targets(tg.id));
      });
      return {};
    },

    async DescribeTargetGroupAttributes(input: { TargetGroupArn: string }) {
      const tg = await transact(env.store, (tx) => targetGroupByArn(tx, input.TargetGroupArn));
      return { Attributes: attributeList(tg.attributes) };
    },

    async ModifyTargetGroupAttributes(input: { TargetGroupArn: string; Attributes: { Key?: string; Value?: string }[] }) {
      const tg = await transact(env.store, async (tx) => {
        const current = await targetGroupByArn(tx, input.TargetGroupArn);
        const updated = { ...current, attributes: modifyTargetGroupAttributes(current.protocol, current.attributes, input.Attributes) };
        tx.putJson(elbKeys.targetGroup(current.name), updated);
        return updated;
      });
      return { Attributes: attributeList(tg.attributes) };
    },
  };
}
