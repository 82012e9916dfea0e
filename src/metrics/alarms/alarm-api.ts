import { randomUUID } from 'node:crypto';
import { ServiceError } from '../../model/errors.js';
import { rangePages } from '../../store/range-pages.js';
import { transact, type Tx } from '../../store/transact.js';
import { alarmKeys } from '../../state/scaling-keys.js';
import { parseAlarmHistoryRecord, parseAlarmRecord, type AlarmHistoryRecord, type AlarmRecord } from '../../state/records/alarms.js';
import { exclusive, invalidValue } from '../api/errors.js';
import { decodeToken, encodeToken } from '../api/periods.js';
import { alarmConfig, metricAlarmOut, type AlarmConfig, type PutMetricAlarmInput } from './alarm-config.js';
import { alarmArn, type AlarmsEnv } from './alarms-env.js';
import { alarmStates } from './evaluate.js';

/** CloudWatch's quotas: tags per resource; alarms per account and region (raised on request there; fixed here). */
const MAX_TAGS = 50;
export const MAX_ALARMS = 10_000;

const notFound = (name: string) => new ServiceError('ResourceNotFound', `The alarm ${name} does not exist.`);
const tagNotFound = (arn: string) => new ServiceError('ResourceNotFoundException', `The resource ${arn} does not exist.`);

/** A history item beside the change it records (same transaction). */
export function addHistory(tx: Tx, item: AlarmHistoryRecord): void {
  tx.putJson(alarmKeys.history(item.AlarmName, item.Timestamp, randomUUID().slice(0, 8)), item);
}

/**
 * Creates or replaces an alarm in `tx`, as PutMetricAlarm does: a new alarm starts INSUFFICIENT_DATA; a changed one
 * keeps its state (its next evaluation decides). Also used by Application Auto Scaling for the alarms it owns.
 */
export async function writeAlarm(tx: Tx, env: Pick<AlarmsEnv, 'scope'>, name: string, config: AlarmConfig, tags: AlarmRecord['tags'] | undefined, now: number): Promise<AlarmRecord> {
  const before = await tx.getRecord(parseAlarmRecord, alarmKeys.alarm(name));
  const record: AlarmRecord = before
    ? { ...stripConfig(before), ...config, tags: tags ?? before.tags, configurationUpdatedAt: now }
    : {
        name,
        arn: alarmArn(env.scope, name),
        ...config,
        tags: tags ?? [],
        configurationUpdatedAt: now,
        state: 'INSUFFICIENT_DATA',
        stateReason: 'Unchecked: Initial alarm creation',
        stateUpdatedAt: now,
        stateTransitionedAt: now,
      };
  tx.putJson(alarmKeys.alarm(name), record);
  addHistory(tx, {
    AlarmName: name,
    AlarmType: 'MetricAlarm',
    Timestamp: now,
    HistoryItemType: 'ConfigurationUpdate',
    HistorySummary: `Alarm "${name}" ${before ? 'updated' : 'created'}`,
    HistoryData: JSON.stringify({ version: '1.0', type: before ? 'Update' : 'Create', ...(before ? { updatedAlarm: metricAlarmOut(record) } : { createdAlarm: metricAlarmOut(record) }) }),
  });
  return record;
}

/** The record without the optional configuration fields (a PutMetricAlarm replaces the whole configuration). */
function stripConfig(r: AlarmRecord): AlarmRecord {
  const { description: _d, metric: _m, metrics: _ms, datapointsToAlarm: _p, treatMissingData: _t, evaluateLowSampleCountPercentile: _e, ...rest } = r;
  return rest as AlarmRecord;
}

export async function deleteAlarmsIn(tx: Tx, names: readonly string[]): Promise<void> {
  for (const name of names) tx.delete(alarmKeys.alarm(name));
}

export function alarmOperations(env: AlarmsEnv) {
  const checkTags = (tags: readonly { Key: string }[] | undefined) => {
    if (tags && tags.length > MAX_TAGS) throw new ServiceError('LimitExceededException', `The number of tags must not exceed ${MAX_TAGS}.`);
  };
  const nameOfArn = (arn: string) => {
    const m = /^arn:aws[a-z-]*:cloudwatch:[^:]*:[0-9]*:alarm:(.+)$/.exec(arn);
    if (!m) throw invalidValue('ResourceARN', arn, 'It must be the ARN of a CloudWatch alarm.');
    return m[1]!;
  };
  return {
    PutMetricAlarm: async (input: PutMetricAlarmInput) => {
      const config = alarmConfig(input);
      checkTags(input.Tags);
      const count = (await env.records.range(alarmKeys.alarms(), { limit: MAX_ALARMS })).entries.length;
      await transact(env.records, async (tx) => {
        const exists = await tx.get(alarmKeys.alarm(input.AlarmName));
        if (!exists && count >= MAX_ALARMS) throw new ServiceError('LimitExceeded', `The maximum number of alarms (${MAX_ALARMS}) has been reached.`);
        await writeAlarm(tx, env, input.AlarmName, config, input.Tags, env.now());
      });
      return {};
    },
    DeleteAlarms: async (input: { AlarmNames: string[] }) => {
      await transact(env.records, async (tx) => {
        for (const name of input.AlarmNames) if (!(await tx.get(alarmKeys.alarm(name)))) throw notFound(name);
        await deleteAlarmsIn(tx, input.AlarmNames);
      });
      return {};
    },
    DescribeAlarms: async (input: { AlarmNames?: string[]; AlarmNamePrefix?: string; AlarmTypes?: string[]; StateValue?: string; ActionPrefix?: string; MaxRecords?: number; NextToken?: string; ChildrenOfAlarmName?: string; ParentsOfAlarmName?: string }) => {
      if (input.AlarmNames && input.AlarmNamePrefix !== undefined) throw exclusive('AlarmNames', 'AlarmNamePrefix');
      const max = input.MaxRecords ?? 50;
      if (!(max >= 1 && max <= 100)) throw invalidValue('MaxRecords', max, 'It must be between 1 and 100.');
      const { NextToken, MaxRecords: _m, ...filters } = input;
      const after = NextToken === undefined ? undefined : decodeToken<string>(NextToken, filters);
      // Composite alarms are not served: asked for only them, the answer is empty.
      const metricAlarms = input.AlarmTypes === undefined || input.AlarmTypes.includes('MetricAlarm');
      const out: AlarmRecord[] = [];
      let next: string | undefined;
      if (metricAlarms && input.ChildrenOfAlarmName === undefined && input.ParentsOfAlarmName === undefined) {
        const names = input.AlarmNames ? new Set(input.AlarmNames) : undefined;
        outer: for await (const page of rangePages(env.records, alarmKeys.alarms(), 500, after)) {
          for (const e of page) {
            const r = parseAlarmRecord(e.value, e.key);
            if (names && !names.has(r.name)) continue;
            if (input.AlarmNamePrefix !== undefined && !r.name.startsWith(input.AlarmNamePrefix)) continue;
            if (input.StateValue !== undefined && r.state !== input.StateValue) continue;
            if (input.ActionPrefix !== undefined && ![...r.okActions, ...r.alarmActions, ...r.insufficientDataActions].some((a) => a.startsWith(input.ActionPrefix!))) continue;
            if (out.length === max) {
              next = encodeToken(alarmKeys.alarm(out[out.length - 1]!.name), filters);
              break outer;
            }
            out.push(r);
          }
        }
      }
      return { MetricAlarms: out.map(metricAlarmOut), CompositeAlarms: [], ...(next ? { NextToken: next } : {}) };
    },
    DescribeAlarmsForMetric: async (input: { MetricName: string; Namespace: string; Statistic?: string; ExtendedStatistic?: string; Dimensions?: { Name: string; Value: string }[]; Period?: number; Unit?: string }) => {
      const dims = JSON.stringify(sortDims(input.Dimensions ?? []));
      const out: object[] = [];
      for await (const page of rangePages(env.records, alarmKeys.alarms(), 500)) {
        for (const e of page) {
          const r = parseAlarmRecord(e.value, e.key);
          const m = r.metric;
          if (!m || m.metricName !== input.MetricName || m.namespace !== input.Namespace) continue;
          if (input.Dimensions !== undefined && JSON.stringify(sortDims(m.dimensions)) !== dims) continue;
          if (input.Statistic !== undefined && m.statistic !== input.Statistic) continue;
          if (input.ExtendedStatistic !== undefined && m.extendedStatistic !== input.ExtendedStatistic) continue;
          if (input.Period !== undefined && r.period !== input.Period) continue;
          if (input.Unit !== undefined && m.unit !== input.Unit) continue;
          out.push(metricAlarmOut(r));
        }
      }
      return { MetricAlarms: out };
    },
    DescribeAlarmHistory: async (input: { AlarmName?: string; AlarmTypes?: string[]; HistoryItemType?: string; StartDate?: number; EndDate?: number; MaxRecords?: number; NextToken?: string; ScanBy?: string }) => {
      const max = input.MaxRecords ?? 100;
      if (!(max >= 1 && max <= 100)) throw invalidValue('MaxRecords', max, 'It must be between 1 and 100.');
      const { NextToken, MaxRecords: _m, ...filters } = input;
      const offset = NextToken === undefined ? 0 : decodeToken<number>(NextToken, filters);
      const prefix = input.AlarmName !== undefined ? alarmKeys.historyOf(input.AlarmName) : alarmKeys.histories();
      const items: AlarmHistoryRecord[] = [];
      if (input.AlarmTypes === undefined || input.AlarmTypes.includes('MetricAlarm')) {
        for await (const page of rangePages(env.records, prefix, 1000)) {
          for (const e of page) {
            const h = parseAlarmHistoryRecord(e.value, e.key);
            if (input.HistoryItemType !== undefined && h.HistoryItemType !== input.HistoryItemType) continue;
            if (input.StartDate !== undefined && h.Timestamp < input.StartDate * 1000) continue;
            if (input.EndDate !== undefined && h.Timestamp > input.EndDate * 1000) continue;
            items.push(h);
          }
        }
      }
      items.sort((a, b) => (input.ScanBy === 'TimestampAscending' ? a.Timestamp - b.Timestamp : b.Timestamp - a.Timestamp));
      const page = items.slice(offset, offset + max);
      return {
        AlarmHistoryItems: page.map((h) => ({ ...h, Timestamp: h.Timestamp / 1000 })),
        ...(offset + max < items.length ? { NextToken: encodeToken(offset + max, filters) } : {}),
      };
    },
    SetAlarmState: async (input: { AlarmName: string; StateValue: string; StateReason: string; StateReasonData?: string }) => {
      if (!alarmStates.includes(input.StateValue as never)) throw invalidValue('StateValue', input.StateValue);
      if (input.StateReasonData !== undefined) {
        try {
          JSON.parse(input.StateReasonData);
        } catch {
          throw new ServiceError('InvalidFormat', 'StateReasonData is not valid JSON.');
        }
      }
      await transact(env.records, async (tx) => {
        const r = await tx.getRecord(parseAlarmRecord, alarmKeys.alarm(input.AlarmName));
        if (!r) throw notFound(input.AlarmName);
        const now = env.now();
        const { stateReasonData: _s, ...rest } = r;
        // The leader's evaluator runs the actions of a state it has not acted on (actedOn < stateUpdatedAt).
        tx.putJson(alarmKeys.alarm(r.name), {
          ...rest,
          state: input.StateValue,
          stateReason: input.StateReason,
          ...(input.StateReasonData !== undefined ? { stateReasonData: input.StateReasonData } : {}),
          stateUpdatedAt: now,
          stateTransitionedAt: input.StateValue !== r.state ? now : r.stateTransitionedAt,
        });
        addHistory(tx, stateHistory(r.name, r.state, input.StateValue, input.StateReason, now));
      });
      return {};
    },
    EnableAlarmActions: (input: { AlarmNames: string[] }) => setActionsEnabled(env, input.AlarmNames, true),
    DisableAlarmActions: (input: { AlarmNames: string[] }) => setActionsEnabled(env, input.AlarmNames, false),
    ListTagsForResource: async (input: { ResourceARN: string }) => {
      const r = (await env.records.get(alarmKeys.alarm(nameOfArn(input.ResourceARN)))) ?? undefined;
      if (!r) throw tagNotFound(input.ResourceARN);
      return { Tags: parseAlarmRecord(r.value, r.key).tags };
    },
    TagResource: async (input: { ResourceARN: string; Tags: { Key: string; Value: string }[] }) => {
      await changeTags(input.ResourceARN, (tags) => {
        const byKey = new Map(tags.map((t) => [t.Key, t]));
        for (const t of input.Tags) byKey.set(t.Key, t);
        return [...byKey.values()];
      });
      return {};
    },
    UntagResource: async (input: { ResourceARN: string; TagKeys: string[] }) => {
      await changeTags(input.ResourceARN, (tags) => tags.filter((t) => !input.TagKeys.includes(t.Key)));
      return {};
    },
  };

  async function changeTags(arn: string, change: (tags: AlarmRecord['tags']) => AlarmRecord['tags']): Promise<void> {
    const name = nameOfArn(arn);
    await transact(env.records, async (tx) => {
      const r = await tx.getRecord(parseAlarmRecord, alarmKeys.alarm(name));
      if (!r) throw tagNotFound(arn);
      const tags = change(r.tags);
      checkTags(tags);
      tx.putJson(alarmKeys.alarm(name), { ...r, tags });
    });
  }
}

/** A StateUpdate history item in CloudWatch's words. */
export function stateHistory(name: string, from: string, to: string, reason: string, now: number, reasonData?: string): AlarmHistoryRecord {
  return {
    AlarmName: name,
    AlarmType: 'MetricAlarm',
    Timestamp: now,
    HistoryItemType: 'StateUpdate',
    HistorySummary: `Alarm updated from ${from} to ${to}`,
    HistoryData: JSON.stringify({
      version: '1.0',
      oldState: { stateValue: from },
      newState: { stateValue: to, stateReason: reason, ...(reasonData ? { stateReasonData: JSON.parse(reasonData) as unknown } : {}) },
    }),
  };
}

async function setActionsEnabled(env: AlarmsEnv, names: readonly string[], enabled: boolean): Promise<object> {
  await transact(env.records, async (tx) => {
    for (const name of names) {
      const r = await tx.getRecord(parseAlarmRecord, alarmKeys.alarm(name));
      // As CloudWatch: names of alarms that do not exist are skipped.
      if (r && r.actionsEnabled !== enabled) tx.putJson(alarmKeys.alarm(name), { ...r, actionsEnabled: enabled });
    }
  });
  return {};
}

function sortDims(d: readonly { Name: string; Value: string }[]) {
  return [...d].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}
