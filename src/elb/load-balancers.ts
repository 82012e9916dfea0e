import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseListener, parseLoadBalancer, parseRule, parseTargetGroup, type ElbSubnet, type ElbTag, type LoadBalancerRecord, type LoadBalancerType } from '../state/records/elb.js';
import { transact } from '../store/transact.js';
import { elbArns, newElbId, parseLoadBalancerArn } from './arns.js';
import { attributeList, loadBalancerDefaults, modifyLoadBalancerAttributes } from './attributes.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { elbPage } from './paging.js';
import { listAll, loadBalancerByArn } from './records.js';
import { liveAddresses } from './serving-nodes.js';
import { initialTags } from './tags.js';

/**
 * Load balancers. berth has no VPC: subnets and security groups are recorded as given (checked for their id
 * form) and each subnet is assigned a zone, `<region>a`, `<region>b`, … in the order given — as awsvpc tasks
 * record theirs. A load balancer is `active` as soon as it is created (CreateLoadBalancer answers
 * `provisioning`, as AWS does); which `berth lb` node serves it is `servedBy`, written by the data plane.
 */

/** Route 53 hosted zone ids AWS gives load balancers in us-east-1 (berth answers the same everywhere). */
const HOSTED_ZONE: Readonly<Record<LoadBalancerType, string>> = { application: 'Z35SXDOTRQ7X7K', network: 'Z26RNL4JYFTOTI' };
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const SUBNET = /^subnet-[0-9a-z]{1,32}$/;
const SECURITY_GROUP = /^sg-[0-9a-z]{1,32}$/;

export const DEFAULT_DNS_DOMAIN = 'berth.internal';

/** The load balancer as the API's `LoadBalancer` shows it (timestamps in epoch seconds). */
export function loadBalancerShape(lb: LoadBalancerRecord, now: number, state = lb.state): object {
  const addresses = liveAddresses(lb, now);
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: HOSTED_ZONE[lb.type],
    CreatedTime: lb.createdTime / 1000,
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    State: { Code: state.code, ...(state.reason !== undefined ? { Reason: state.reason } : {}) },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((s) => ({
      ZoneName: s.zoneName,
      SubnetId: s.subnetId,
      ...(addresses.length > 0 ? { LoadBalancerAddresses: addresses.map((a) => ({ IpAddress: a })) } : {}),
    })),
    ...(lb.securityGroups.length > 0 ? { SecurityGroups: lb.securityGroups } : {}),
    IpAddressType: lb.ipAddressType,
  };
}

interface CreateInput {
  Name: string;
  Type?: string;
  Scheme?: 'internet-facing' | 'internal';
  Subnets?: string[];
  SubnetMappings?: { SubnetId?: string; AllocationId?: string; PrivateIPv4Address?: string }[];
  SecurityGroups?: string[];
  IpAddressType?: string;
  Tags?: ElbTag[];
  CustomerOwnedIpv4Pool?: string;
}

function subnetsOf(env: ElbEnv, input: CreateInput, type: LoadBalancerType): ElbSubnet[] {
  if (input.Subnets !== undefined && input.SubnetMappings !== undefined) throw elbErrors.validation('You can specify subnets or subnet mappings, not both');
  const ids = input.Subnets ?? (input.SubnetMappings ?? []).map((m) => m.SubnetId ?? '');
  for (const id of ids) if (!SUBNET.test(id)) throw elbErrors.subnetNotFound(id);
  if (new Set(ids).size !== ids.length) throw elbErrors.config('A load balancer cannot be attached to multiple subnets in the same Availability Zone');
  if (type === 'application' && ids.length < 2) throw elbErrors.validation('At least two subnets in two different Availability Zones must be specified');
  if (type === 'network' && ids.length < 1) throw elbErrors.validation('At least one subnet must be specified');
  if (ids.length > 26) throw elbErrors.validation('At most 26 subnets can be specified');
  return ids.map((subnetId, i) => ({ subnetId, zoneName: `${env.scope.region}${String.fromCharCode(97 + i)}` }));
}

/** CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer and their attributes. */
export function loadBalancerOperations(env: ElbEnv): Record<string, Operation> {
  return {
    async CreateLoadBalancer(input: CreateInput) {
      const type = (input.Type ?? 'application') as LoadBalancerType | 'gateway';
      if (type === 'gateway') throw elbErrors.validation("berth does not support load balancers of type 'gateway'");
      if (!NAME.test(input.Name)) {
        throw elbErrors.validation(`Load balancer name '${input.Name}' must have at most 32 characters, only alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
      }
      if (input.Name.toLowerCase().startsWith('internal-')) throw elbErrors.validation("Load balancer names cannot begin with 'internal-'");
      if (input.CustomerOwnedIpv4Pool !== undefined) throw elbErrors.validation('berth has no customer-owned IP address pools');
      const subnets = subnetsOf(env, input, type);
      const securityGroups = input.SecurityGroups ?? [];
      for (const sg of securityGroups) if (!SECURITY_GROUP.test(sg)) throw elbErrors.securityGroup(sg);
      if (securityGroups.length > 5) throw elbErrors.validation('At most 5 security groups can be specified');
      const ipAddressType = input.IpAddressType ?? 'ipv4';
      if (type === 'network' && ipAddressType === 'dualstack-without-public-ipv4') throw elbErrors.validation(`IP address type '${ipAddressType}' is not supported for Network Load Balancers`);
      const tags = initialTags(env, input.Tags);
      const id = newElbId();
      const scheme = input.Scheme ?? 'internet-facing';
      const domain = env.dnsDomain ?? DEFAULT_DNS_DOMAIN;
      const lb: LoadBalancerRecord = {
        arn: elbArns.loadBalancer(env.scope, type, input.Name, id),
        name: input.Name,
        id,
        type,
        scheme,
        ipAddressType,
        subnets,
        securityGroups,
        dnsName: `${scheme === 'internal' ? 'internal-' : ''}${input.Name}-${id}.${env.scope.region}.elb.${domain}`.toLowerCase(),
        createdTime: env.now(),
        state: { code: 'active' },
        attributes: loadBalancerDefaults(type),
        tags,
        listeners: {},
      };
      const created = await transact(env.store, async (tx) => {
        const existing = await tx.getRecord(parseLoadBalancer, elbKeys.loadBalancer(lb.name));
        if (existing) {
          // The same request again is answered with the existing load balancer, as AWS does.
          const same = existing.type === lb.type && existing.scheme === lb.scheme && JSON.stringify(existing.subnets) === JSON.stringify(lb.subnets);
          if (!same) throw elbErrors.duplicateLb();
          return existing;
        }
        const count = (await tx.range(elbKeys.loadBalancers())).entries.length;
        if (count >= limitsOf(env).loadBalancers) throw elbErrors.tooMany('TooManyLoadBalancers', `You have reached the limit of ${limitsOf(env).loadBalancers} load balancers`);
        tx.putJson(elbKeys.loadBalancer(lb.name), lb);
        return lb;
      });
      return { LoadBalancers: [loadBalancerShape(created, env.now(), created === lb ? { code: 'provisioning' } : created.state)] };
    },

    async DescribeLoadBalancers(input: { LoadBalancerArns?: string[]; Names?: string[]; Marker?: string; PageSize?: number }) {
      if (input.LoadBalancerArns !== undefined && input.Names !== undefined) throw elbErrors.validation('Load balancer names and load balancer ARNs cannot be specified at the same time');
      let lbs = await listAll(env.store, elbKeys.loadBalancers(), parseLoadBalancer);
      if (input.LoadBalancerArns !== undefined) {
        for (const arn of input.LoadBalancerArns) parseLoadBalancerArn(arn);
        const missing = input.LoadBalancerArns.filter((arn) => !lbs.some((lb) => lb.arn === arn));
        if (missing.length > 0) throw elbErrors.lbNotFound(`Load balancers '[${missing.join(', ')}]' not found`);
        lbs = lbs.filter((lb) => input.LoadBalancerArns!.includes(lb.arn));
      } else if (input.Names !== undefined) {
        const folded = input.Names.map((n) => n.toLowerCase());
        const missing = input.Names.filter((n) => !lbs.some((lb) => lb.name.toLowerCase() === n.toLowerCase()));
        if (missing.length > 0) throw elbErrors.lbNotFound(`Load balancers '[${missing.join(', ')}]' not found`);
        lbs = lbs.filter((lb) => folded.includes(lb.name.toLowerCase()));
      }
      const { items, NextMarker } = elbPage(lbs, (lb) => lb.name.toLowerCase(), input);
      return { LoadBalancers: items.map((lb) => loadBalancerShape(lb, env.now())), ...(NextMarker ? { NextMarker } : {}) };
    },

    async DeleteLoadBalancer(input: { LoadBalancerArn: string }) {
      const ref = parseLoadBalancerArn(input.LoadBalancerArn);
      await transact(env.store, async (tx) => {
        const lb = await tx.getRecord(parseLoadBalancer, elbKeys.loadBalancer(ref.name));
        // Deleting a load balancer that is gone succeeds, as AWS's does.
        if (!lb || lb.arn !== input.LoadBalancerArn) return;
        if (lb.attributes['deletion_protection.enabled'] === 'true') {
          throw elbErrors.notPermitted(`Load balancer '${lb.arn}' cannot be deleted because deletion protection is enabled`);
        }
        // Its listeners and their rules go with it, and the target groups they forwarded to are freed.
        const freed = new Set<string>();
        for (const e of (await tx.range(elbKeys.listenersOf(lb.id))).entries) {
          const listener = parseListener(e.value, e.key);
          for (const r of (await tx.range(elbKeys.rulesOf(listener.id))).entries) {
            tx.delete(r.key);
            freed.add(parseRule(r.value, r.key).arn);
          }
          tx.delete(e.key);
          freed.add(listener.arn);
        }
        for (const e of (await tx.range(elbKeys.targetGroups())).entries) {
          const tg = parseTargetGroup(e.value, e.key);
          if (!tg.usedBy.some((arn) => freed.has(arn))) continue;
          // Re-read through the transaction so a concurrent change to the group conflicts.
          const current = await tx.getRecord(parseTargetGroup, e.key);
          if (current) tx.putJson(e.key, { ...current, usedBy: current.usedBy.filter((arn) => !freed.has(arn)) });
        }
        tx.delete(elbKeys.loadBalancer(lb.name));
      });
      return {};
    },

    async DescribeLoadBalancerAttributes(input: { LoadBalancerArn: string }) {
      const lb = await transact(env.store, (tx) => loadBalancerByArn(tx, input.LoadBalancerArn));
      return { Attributes: attributeList(lb.attributes) };
    },

    async ModifyLoadBalancerAttributes(input: { LoadBalancerArn: string; Attributes: { Key?: string; Value?: string }[] }) {
      const lb = await transact(env.store, async (tx) => {
        const current = await loadBalancerByArn(tx, input.LoadBalancerArn);
        const attributes = modifyLoadBalancerAttributes(current.type, current.attributes, input.Attributes);
        const updated = { ...current, attributes };
        tx.putJson(elbKeys.loadBalancer(current.name), updated);
        return updated;
      });
      return { Attributes: attributeList(lb.attributes) };
    },
  };
}
