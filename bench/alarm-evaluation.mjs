// Alarm evaluation cost: N metric alarms (each on its own series with a minute of 1-second data, period 60,
// 3 evaluation periods), one leader pass over all of them in process (memory Store, a real metric store in a
// temporary directory). Prints one JSON line: alarms, pass ms (first pass changes every state: writes; second
// pass changes none: reads only). Run after `npm run build`: node bench/alarm-evaluation.mjs [--alarms 1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmOperations } from '../dist/metrics/alarms/alarm-api.js';
import { evaluateAlarms } from '../dist/metrics/alarms/alarm-evaluator.js';
import { putMetricData } from '../dist/metrics/api/put-metric-data.js';
import { MetricStore } from '../dist/metrics/metric-store.js';
import { MemoryStore } from '../dist/store/memory.js';

const n = Number(process.argv[process.argv.indexOf('--alarms') + 1] || 1000) || 1000;
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-alarms-'));
let clock = Math.floor(Date.now() / 60_000) * 60_000;
const now = () => clock;
const metrics = new MetricStore(join(dir, 'metrics.db'), { now });
const records = new MemoryStore();
const scope = { region: 'us-east-1', accountId: '000000000000' };
const api = alarmOperations({ store: metrics, now, records, scope });
try {
  for (let i = 0; i < n; i += 100) {
    const MetricData = [];
    for (let j = i; j < Math.min(n, i + 100); j++) for (let m = 3; m >= 1; m--) MetricData.push({ MetricName: 'Depth', Dimensions: [{ Name: 'Queue', Value: `q${j}` }], Value: j % 200, Timestamp: clock / 1000 - m * 60 + 1 });
    await putMetricData({ store: metrics, now }, { Namespace: 'Bench', MetricData });
  }
  for (let i = 0; i < n; i++) {
    await api.PutMetricAlarm({ AlarmName: `a${i}`, Namespace: 'Bench', MetricName: 'Depth', Dimensions: [{ Name: 'Queue', Value: `q${i}` }], Statistic: 'Average', Period: 60, EvaluationPeriods: 3, Threshold: 100, ComparisonOperator: 'GreaterThanThreshold' });
  }
  const options = { records, metrics: { store: metrics, now }, log: { error: (o) => console.error(o) }, now, invoke: async () => ({ ok: true, message: '' }) };
  const evaluated = new Map();
  let t = performance.now();
  const changed = await evaluateAlarms(options, evaluated);
  const first = performance.now() - t;
  clock += 60_000;
  t = performance.now();
  await evaluateAlarms(options, evaluated);
  const second = performance.now() - t;
  console.log(JSON.stringify({ alarms: n, firstPassMs: Math.round(first), changed: changed.length, secondPassMs: Math.round(second) }));
} finally {
  metrics.close();
  rmSync(dir, { recursive: true, force: true });
}
