import { pageAfterKey } from '../api/pagination.js';
import { ServiceError } from '../model/errors.js';
import { readRecord, transact } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import type { EventTarget } from '../state/records/events.js';
import { busNameOf, busNotFound, DEFAULT_BUS, MAX_TARGETS_PER_RULE, validation, type EventsEnv } from './env.js';
import { checkEcsTarget, isEcsClusterArn } from './ecs-target.js';
import { ruleIn, rulesOf } from './rules.js';
import { checkTargetInput, type TargetInputSpec } from './target-input.js';

interface FailedEntry {
  TargetId: string;
  ErrorCode: string;
  ErrorMessage: string;
}

/** Target settings berth cannot honour: refused for the entry rather than stored and never delivered. */
const UNSUPPORTED = ['KinesisParameters', 'RunCommandParameters', 'BatchParameters', 'SqsParameters', 'HttpParameters', 'RedshiftDataParameters', 'SageMakerPipelineParameters', 'AppSyncParameters'];

/** Why berth cannot deliver to a target, or undefined when it can (an ECS cluster with EcsParameters). */
function unsupportedReason(target: EventTarget): string | undefined {
  if (!isEcsClusterArn(target.Arn)) return `berth delivers to ECS clusters only; target ${target.Arn} is not one.`;
  const extra = UNSUPPORTED.find((k) => target[k] !== undefined);
  if (extra) return `berth does not support ${extra} (target ${target.Id}).`;
  const dlq = (target.DeadLetterConfig as { Arn?: string } | undefined)?.Arn;
  if (target.DeadLetterConfig !== undefined && (dlq === undefined || !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/.test(dlq))) {
    return `The DeadLetterConfig of target ${target.Id} must name a standard SQS queue's ARN.`;
  }
  return undefined;
}

export function targetOperations(env: EventsEnv) {
  return {
    PutTargets: async (input: { Rule: string; EventBusName?: string; Targets: EventTarget[] }) => {
      const bus = busNameOf(input.EventBusName);
      const ids = new Set<string>();
      const failed: FailedEntry[] = [];
      const accepted: EventTarget[] = [];
      for (const target of input.Targets) {
        if (ids.has(target.Id)) throw validation(`Target id ${target.Id} is given more than once.`);
        ids.add(target.Id);
        checkTargetInput(target as TargetInputSpec, target.Id);
        const reason = unsupportedReason(target);
        if (reason) {
          failed.push({ TargetId: target.Id, ErrorCode: 'ValidationException', ErrorMessage: reason });
          continue;
        }
        checkEcsTarget(target);
        accepted.push(target);
      }
      await transact(env.store, async (tx) => {
        const rule = await ruleIn(tx, bus, input.Rule);
        const byId = new Map(rule.targets.map((t) => [t.Id, t]));
        for (const t of accepted) byId.set(t.Id, t);
        if (byId.size > MAX_TARGETS_PER_RULE) {
          throw new ServiceError('LimitExceededException', `The requested resource exceeds the maximum number allowed: ${MAX_TARGETS_PER_RULE} targets per rule.`);
        }
        if (accepted.length > 0) tx.putJson(eventsKeys.rule(bus, input.Rule), { ...rule, targets: [...byId.values()] });
      });
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    RemoveTargets: async (input: { Rule: string; EventBusName?: string; Ids: string[]; Force?: boolean }) => {
      const bus = busNameOf(input.EventBusName);
      await transact(env.store, async (tx) => {
        const rule = await ruleIn(tx, bus, input.Rule);
        // An id the rule does not have is no failure: removing it leaves the rule as asked.
        const targets = rule.targets.filter((t) => !input.Ids.includes(t.Id));
        if (targets.length !== rule.targets.length) tx.putJson(eventsKeys.rule(bus, input.Rule), { ...rule, targets });
      });
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    ListTargetsByRule: async (input: { Rule: string; EventBusName?: string; NextToken?: string; Limit?: number }) => {
      const bus = busNameOf(input.EventBusName);
      const rule = await ruleIn({ getRecord: (parse, key) => readRecord(env.store, parse, key) }, bus, input.Rule);
      const sorted = [...rule.targets].sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
      const { items, next } = pageAfterKey(sorted, (t) => t.Id, input.NextToken, input.Limit ?? 100, () => validation('The NextToken value is invalid.'));
      return { Targets: items, ...(next ? { NextToken: next } : {}) };
    },
    ListRuleNamesByTarget: async (input: { TargetArn: string; EventBusName?: string; NextToken?: string; Limit?: number }) => {
      const bus = busNameOf(input.EventBusName);
      if (bus !== DEFAULT_BUS && !(await env.store.get(eventsKeys.bus(bus)))) throw busNotFound(bus);
      const names = (await rulesOf(env, bus)).filter((r) => r.targets.some((t) => t.Arn === input.TargetArn)).map((r) => r.name);
      const { items, next } = pageAfterKey(names, (n) => n, input.NextToken, input.Limit ?? 100, () => validation('The NextToken value is invalid.'));
      return { RuleNames: items, ...(next ? { NextToken: next } : {}) };
    },
  };
}
