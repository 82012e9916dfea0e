import { ServiceError } from '../model/errors.js';
import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseListener, parseRule, type ElbProtocol, type ElbTag, type ListenerRecord, type LoadBalancerRecord } from '../state/records/elb.js';
import { transact, type Tx } from '../store/transact.js';
import { checkActions, forwardedTargetGroups, type ActionInput } from './actions.js';
import { elbArns, newElbId, parseListenerArn } from './arns.js';
import { bindTargetGroups } from './bindings.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { elbPage } from './paging.js';
import { listAll, listenerByArn, loadBalancerByArn } from './records.js';
import { initialTags } from './tags.js';

/**
 * Listeners: HTTP and HTTPS on Application Load Balancers, TCP, TLS, UDP and TCP_UDP on Network Load Balancers,
 * one per port. HTTPS and TLS listeners need a certificate, which is recorded (with the SSL policy) but not used:
 * berth's data plane does not terminate TLS. A listener's default actions are also its default rule's.
 */

const BY_TYPE = { application: ['HTTP', 'HTTPS'], network: ['TCP', 'TLS', 'UDP', 'TCP_UDP'] } as const;
const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';

interface ListenerInput {
  Port?: number;
  Protocol?: string;
  SslPolicy?: string;
  Certificates?: { CertificateArn?: string }[];
  DefaultActions?: ActionInput[];
  AlpnPolicy?: string[];
  MutualAuthentication?: object;
}

export function listenerShape(l: ListenerRecord): object {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.loadBalancerArn,
    Port: l.port,
    Protocol: l.protocol,
    ...(l.certificates ? { Certificates: l.certificates.map((c) => ({ CertificateArn: c.CertificateArn })) } : {}),
    ...(l.sslPolicy !== undefined ? { SslPolicy: l.sslPolicy } : {}),
    DefaultActions: l.defaultActions,
    ...(l.alpnPolicy ? { AlpnPolicy: l.alpnPolicy } : {}),
  };
}

/** The listener `changes` make of `base` on `lb`, checked (protocol for the type, port free, TLS settings). */
function settle(lb: LoadBalancerRecord, base: Partial<ListenerRecord>, changes: ListenerInput): Omit<ListenerRecord, 'arn' | 'id' | 'defaultRuleId' | 'rules' | 'tags' | 'loadBalancerArn'> {
  if (changes.MutualAuthentication !== undefined) throw elbErrors.validation('berth does not support mutual TLS authentication on listeners');
  const protocol = (changes.Protocol ?? base.protocol) as ElbProtocol | undefined;
  if (protocol === undefined) throw elbErrors.validation('A listener protocol must be specified');
  if (!(BY_TYPE[lb.type] as readonly string[]).includes(protocol)) {
    throw new ServiceError('UnsupportedProtocol', `Protocol '${protocol}' is not supported for load balancers of type '${lb.type}'`);
  }
  const port = changes.Port ?? base.port;
  if (port === undefined) throw elbErrors.validation('A listener port must be specified');
  const secure = protocol === 'HTTPS' || protocol === 'TLS';
  const certificates = changes.Certificates ?? base.certificates;
  if (secure && (certificates === undefined || certificates.length === 0)) throw elbErrors.validation(`A certificate must be specified for ${protocol} listeners`);
  if (certificates !== undefined && certificates.length > 1) throw elbErrors.validation('A listener can have only one default certificate');
  if (!secure && changes.SslPolicy !== undefined) throw elbErrors.validation(`An SSL policy cannot be specified for ${protocol} listeners`);
  if (protocol !== 'TLS' && changes.AlpnPolicy !== undefined) throw elbErrors.validation('An ALPN policy can only be specified for TLS listeners');
  const sslPolicy = secure ? (changes.SslPolicy ?? base.sslPolicy ?? DEFAULT_SSL_POLICY) : undefined;
  const alpn = protocol === 'TLS' ? (changes.AlpnPolicy ?? base.alpnPolicy) : undefined;
  const defaultActions = changes.DefaultActions !== undefined ? checkActions(changes.DefaultActions, lb.type).actions : (base.defaultActions ?? []);
  return {
    port,
    protocol,
    defaultActions,
    ...(secure && certificates ? { certificates: certificates.map((c) => ({ ...(c.CertificateArn !== undefined ? { CertificateArn: c.CertificateArn } : {}) })) } : {}),
    ...(sslPolicy !== undefined ? { sslPolicy } : {}),
    ...(alpn !== undefined ? { alpnPolicy: alpn } : {}),
  };
}

/** Delete a listener, its rules and its hold on target groups in the caller's transaction. */
async function removeListener(tx: Tx, listener: ListenerRecord, lb: LoadBalancerRecord): Promise<void> {
  for (const e of (await tx.range(elbKeys.rulesOf(listener.id))).entries) {
    const rule = parseRule(e.value, e.key);
    await bindTargetGroups(tx, rule.arn, listener.protocol, [], forwardedTargetGroups(rule.actions));
    tx.delete(e.key);
  }
  await bindTargetGroups(tx, listener.arn, listener.protocol, [], forwardedTargetGroups(listener.defaultActions));
  const { [listener.id]: _gone, ...listeners } = lb.listeners;
  tx.putJson(elbKeys.loadBalancer(lb.name), { ...lb, listeners } satisfies LoadBalancerRecord);
  tx.delete(elbKeys.listener(lb.id, listener.id));
}

export function listenerOperations(env: ElbEnv): Record<string, Operation> {
  return {
    async CreateListener(input: ListenerInput & { LoadBalancerArn: string; Tags?: ElbTag[] }) {
      const tags = initialTags(env, input.Tags);
      const listener = await transact(env.store, async (tx) => {
        const lb = await loadBalancerByArn(tx, input.LoadBalancerArn);
        const settled = settle(lb, {}, input);
        const taken = Object.entries(lb.listeners).find(([, port]) => port === settled.port);
        if (taken) {
          // The same listener again is answered with the existing one, as AWS does.
          const existing = await listenerByArn(tx, elbArns.listener(lb.arn, taken[0]));
          if (existing.protocol === settled.protocol && JSON.stringify(existing.defaultActions) === JSON.stringify(settled.defaultActions)) return existing;
          throw elbErrors.duplicateListener();
        }
        const limit = limitsOf(env).listenersPerLoadBalancer;
        if (Object.keys(lb.listeners).length >= limit) throw elbErrors.tooMany('TooManyListeners', `You've reached the limit on the number of listeners per load balancer (${limit})`);
        const id = newElbId();
        const arn = elbArns.listener(lb.arn, id);
        const record: ListenerRecord = { ...settled, arn, id, loadBalancerArn: lb.arn, defaultRuleId: newElbId(), rules: {}, tags };
        await bindTargetGroups(tx, arn, record.protocol, forwardedTargetGroups(record.defaultActions), []);
        tx.putJson(elbKeys.listener(lb.id, id), record);
        tx.putJson(elbKeys.loadBalancer(lb.name), { ...lb, listeners: { ...lb.listeners, [id]: record.port } } satisfies LoadBalancerRecord);
        return record;
      });
      return { Listeners: [listenerShape(listener)] };
    },

    async DescribeListeners(input: { LoadBalancerArn?: string; ListenerArns?: string[]; Marker?: string; PageSize?: number }) {
      if ((input.LoadBalancerArn === undefined) === (input.ListenerArns === undefined)) {
        throw elbErrors.validation('You must specify either listener ARNs or a load balancer ARN');
      }
      let listeners: ListenerRecord[];
      if (input.LoadBalancerArn !== undefined) {
        const lbArn = input.LoadBalancerArn;
        const lb = await transact(env.store, (tx) => loadBalancerByArn(tx, lbArn));
        listeners = await listAll(env.store, elbKeys.listenersOf(lb.id), parseListener);
      } else {
        const arns = input.ListenerArns!;
        for (const arn of arns) parseListenerArn(arn);
        listeners = await transact(env.store, async (tx) => {
          const out: ListenerRecord[] = [];
          for (const arn of arns) out.push(await listenerByArn(tx, arn));
          return out;
        });
      }
      listeners.sort((a, b) => a.port - b.port || a.id.localeCompare(b.id));
      const key = (l: ListenerRecord) => `${String(l.port).padStart(5, '0')}/${l.id}`;
      const { items, NextMarker } = elbPage(listeners, key, input);
      return { Listeners: items.map(listenerShape), ...(NextMarker ? { NextMarker } : {}) };
    },

    async ModifyListener(input: ListenerInput & { ListenerArn: string }) {
      const ref = parseListenerArn(input.ListenerArn);
      const listener = await transact(env.store, async (tx) => {
        const current = await listenerByArn(tx, input.ListenerArn);
        const lb = await loadBalancerByArn(tx, ref.loadBalancerArn);
        const settled = settle(lb, current, input);
        if (settled.port !== current.port && Object.values(lb.listeners).includes(settled.port)) throw elbErrors.duplicateListener();
        // Rules forwarding to groups of the old protocol would break with the new one: the check covers them too.
        const updated: ListenerRecord = { ...current, ...settled };
        await bindTargetGroups(tx, current.arn, updated.protocol, forwardedTargetGroups(updated.defaultActions), forwardedTargetGroups(current.defaultActions));
        for (const e of (await tx.range(elbKeys.rulesOf(current.id))).entries) {
          const rule = parseRule(e.value, e.key);
          const groups = forwardedTargetGroups(rule.actions);
          await bindTargetGroups(tx, rule.arn, updated.protocol, groups, groups);
        }
        tx.putJson(elbKeys.listener(lb.id, current.id), updated);
        tx.putJson(elbKeys.loadBalancer(lb.name), { ...lb, listeners: { ...lb.listeners, [current.id]: updated.port } } satisfies LoadBalancerRecord);
        return updated;
      });
      return { Listeners: [listenerShape(listener)] };
    },

    async DeleteListener(input: { ListenerArn: string }) {
      const ref = parseListenerArn(input.ListenerArn);
      await transact(env.store, async (tx) => {
        const listener = await listenerByArn(tx, input.ListenerArn);
        const lb = await loadBalancerByArn(tx, ref.loadBalancerArn);
        await removeListener(tx, listener, lb);
      });
      return {};
    },
  };
}
