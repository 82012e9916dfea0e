import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseRule, type ElbTag, type ListenerRecord, type RuleRecord } from '../state/records/elb.js';
import { transact, type Tx } from '../store/transact.js';
import { checkActions, forwardedTargetGroups, type ActionInput } from './actions.js';
import { elbArns, newElbId, parseListenerArn, parseRuleArn } from './arns.js';
import { isHttpProtocol } from './attributes.js';
import { bindTargetGroups } from './bindings.js';
import { checkConditions, type ConditionInput } from './conditions.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { elbPage } from './paging.js';
import { listAll, listenerByArn, ruleByArn } from './records.js';
import { initialTags } from './tags.js';

/**
 * Listener rules of Application Load Balancers: priorities 1–50000 unique per listener (the listener's record
 * holds them, so PriorityInUse is a compare-and-swap check), conditions and actions; every listener also has its
 * default rule, which is its default actions (changed through ModifyListener, never deleted or reprioritized).
 */

const defaultRuleArn = (l: ListenerRecord) => elbArns.rule(l.arn, l.defaultRuleId);

function defaultRuleShape(l: ListenerRecord): object {
  return { RuleArn: defaultRuleArn(l), Priority: 'default', Conditions: [], Actions: l.defaultActions, IsDefault: true };
}

export function ruleShape(r: RuleRecord): object {
  return { RuleArn: r.arn, Priority: String(r.priority), Conditions: r.conditions, Actions: r.actions, IsDefault: false };
}

/** The listener a rule ARN belongs to, and whether the ARN is its default rule's. */
async function locate(tx: Tx, ruleArn: string): Promise<{ listener: ListenerRecord; isDefault: boolean }> {
  const ref = parseRuleArn(ruleArn);
  const listener = await listenerByArn(tx, ref.listenerArn).catch(() => {
    throw elbErrors.ruleNotFound(`Rule '${ruleArn}' not found`);
  });
  return { listener, isDefault: listener.defaultRuleId === ref.id };
}

const putListener = (tx: Tx, l: ListenerRecord) => tx.putJson(elbKeys.listener(parseListenerArn(l.arn).loadBalancer.id, l.id), l);

export function ruleOperations(env: ElbEnv): Record<string, Operation> {
  return {
    async CreateRule(input: { ListenerArn: string; Conditions: ConditionInput[]; Priority: number; Actions: ActionInput[]; Tags?: ElbTag[]; Transforms?: unknown[] }) {
      if (input.Transforms !== undefined) throw elbErrors.validation('berth does not support rule transforms');
      const conditions = checkConditions(input.Conditions);
      const { actions, targetGroupArns } = checkActions(input.Actions, 'application');
      const tags = initialTags(env, input.Tags);
      const rule = await transact(env.store, async (tx) => {
        const listener = await listenerByArn(tx, input.ListenerArn);
        if (!isHttpProtocol(listener.protocol)) throw elbErrors.config(`Rules cannot be added to ${listener.protocol} listeners: only listeners of Application Load Balancers have rules`);
        if (Object.values(listener.rules).includes(input.Priority)) throw elbErrors.priorityInUse(input.Priority);
        const limit = limitsOf(env).rulesPerListener;
        if (Object.keys(listener.rules).length >= limit) throw elbErrors.tooMany('TooManyRules', `You've reached the limit on the number of rules per listener (${limit})`);
        const id = newElbId();
        const record: RuleRecord = { arn: elbArns.rule(listener.arn, id), id, listenerArn: listener.arn, priority: input.Priority, conditions, actions, tags };
        await bindTargetGroups(tx, record.arn, listener.protocol, targetGroupArns, []);
        tx.putJson(elbKeys.rule(listener.id, id), record);
        putListener(tx, { ...listener, rules: { ...listener.rules, [id]: record.priority } });
        return record;
      });
      return { Rules: [ruleShape(rule)] };
    },

    async DescribeRules(input: { ListenerArn?: string; RuleArns?: string[]; Marker?: string; PageSize?: number }) {
      if ((input.ListenerArn === undefined) === (input.RuleArns === undefined)) throw elbErrors.validation('You must specify either listener ARN or rule ARNs');
      let shown: { key: string; shape: object }[];
      const keyOf = (priority: number | 'default', id: string) => `${priority === 'default' ? '99999' : String(priority).padStart(5, '0')}/${id}`;
      if (input.ListenerArn !== undefined) {
        const arn = input.ListenerArn;
        const listener = await transact(env.store, (tx) => listenerByArn(tx, arn));
        const rules = await listAll(env.store, elbKeys.rulesOf(listener.id), parseRule);
        shown = [...rules.map((r) => ({ key: keyOf(r.priority, r.id), shape: ruleShape(r) })), { key: keyOf('default', listener.defaultRuleId), shape: defaultRuleShape(listener) }];
      } else {
        const arns = input.RuleArns!;
        for (const arn of arns) parseRuleArn(arn);
        shown = await transact(env.store, async (tx) => {
          const out: { key: string; shape: object }[] = [];
          for (const arn of arns) {
            const { listener, isDefault } = await locate(tx, arn);
            if (isDefault) out.push({ key: keyOf('default', listener.defaultRuleId), shape: defaultRuleShape(listener) });
            else {
              const r = await ruleByArn(tx, arn);
              out.push({ key: keyOf(r.priority, r.id), shape: ruleShape(r) });
            }
          }
          return out;
        });
      }
      shown.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const { items, NextMarker } = elbPage(shown, (s) => s.key, input);
      return { Rules: items.map((s) => s.shape), ...(NextMarker ? { NextMarker } : {}) };
    },

    async ModifyRule(input: { RuleArn: string; Conditions?: ConditionInput[]; Actions?: ActionInput[]; Transforms?: unknown[]; ResetTransforms?: boolean }) {
      if (input.Transforms !== undefined) throw elbErrors.validation('berth does not support rule transforms');
      const conditions = input.Conditions !== undefined ? checkConditions(input.Conditions) : undefined;
      const checked = input.Actions !== undefined ? checkActions(input.Actions, 'application') : undefined;
      const shape = await transact(env.store, async (tx) => {
        const { listener, isDefault } = await locate(tx, input.RuleArn);
        if (isDefault) {
          if (conditions !== undefined) throw elbErrors.notPermitted('The conditions of a default rule cannot be modified');
          if (!checked) return defaultRuleShape(listener);
          // The default rule's actions are the listener's default actions.
          await bindTargetGroups(tx, listener.arn, listener.protocol, checked.targetGroupArns, forwardedTargetGroups(listener.defaultActions));
          const updated = { ...listener, defaultActions: checked.actions };
          putListener(tx, updated);
          return defaultRuleShape(updated);
        }
        const rule = await ruleByArn(tx, input.RuleArn);
        const updated: RuleRecord = { ...rule, ...(conditions ? { conditions } : {}), ...(checked ? { actions: checked.actions } : {}) };
        await bindTargetGroups(tx, rule.arn, listener.protocol, forwardedTargetGroups(updated.actions), forwardedTargetGroups(rule.actions));
        tx.putJson(elbKeys.rule(listener.id, rule.id), updated);
        return ruleShape(updated);
      });
      return { Rules: [shape] };
    },

    async DeleteRule(input: { RuleArn: string }) {
      await transact(env.store, async (tx) => {
        const { listener, isDefault } = await locate(tx, input.RuleArn);
        if (isDefault) throw elbErrors.notPermitted(`Default rule '${input.RuleArn}' cannot be deleted`);
        const rule = await ruleByArn(tx, input.RuleArn);
        await bindTargetGroups(tx, rule.arn, listener.protocol, [], forwardedTargetGroups(rule.actions));
        const { [rule.id]: _gone, ...rules } = listener.rules;
        putListener(tx, { ...listener, rules });
        tx.delete(elbKeys.rule(listener.id, rule.id));
      });
      return {};
    },

    async SetRulePriorities(input: { RulePriorities: { RuleArn?: string; Priority?: number }[] }) {
      const pairs = input.RulePriorities.map((p) => {
        if (p.RuleArn === undefined || p.Priority === undefined) throw elbErrors.validation('A rule ARN and a priority must be specified for each rule');
        parseRuleArn(p.RuleArn);
        return { arn: p.RuleArn, priority: p.Priority };
      });
      const rules = await transact(env.store, async (tx) => {
        const listeners = new Map<string, ListenerRecord>();
        const updated: RuleRecord[] = [];
        for (const { arn, priority } of pairs) {
          const located = await locate(tx, arn);
          if (located.isDefault) throw elbErrors.notPermitted(`The priority of default rule '${arn}' cannot be changed`);
          const listener = listeners.get(located.listener.arn) ?? located.listener;
          const rule = await ruleByArn(tx, arn);
          listeners.set(listener.arn, { ...listener, rules: { ...listener.rules, [rule.id]: priority } });
          updated.push({ ...rule, priority });
        }
        // Priorities are checked once every pair is applied: swapping two rules' priorities is one call.
        for (const listener of listeners.values()) {
          const seen = new Set<number>();
          for (const p of Object.values(listener.rules)) {
            if (seen.has(p)) throw elbErrors.priorityInUse(p);
            seen.add(p);
          }
          putListener(tx, listener);
        }
        for (const r of updated) tx.putJson(elbKeys.rule(parseListenerArn(r.listenerArn).id, r.id), r);
        return updated;
      });
      return { Rules: rules.map(ruleShape) };
    },
  };
}
