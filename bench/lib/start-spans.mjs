// Reads the `task start spans` lines berth's server and agent log at debug level (src/process/spans.ts)
// and summarises where a task start's milliseconds went: each span's median, and the gaps between
// processes (client → server, commit → push, push → agent, report → visible in DescribeTasks) measured
// on the wall clock both processes and the bench share.
const SPANS_MESSAGE = 'task start spans';

/** Every span line in `logs` (strings of JSON lines), merged per task ARN. */
export function spansByTask(...logs) {
  const byTask = new Map();
  for (const text of logs) {
    for (const line of text.split('\n')) {
      if (!line.includes(SPANS_MESSAGE)) continue;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg !== SPANS_MESSAGE) continue;
      byTask.set(entry.task, [...(byTask.get(entry.task) ?? []), ...entry.spans]);
    }
  }
  return byTask;
}

/**
 * One task's start as named segments in ms: `t0` is when the client sent RunTask and `visibleAt` when
 * DescribeTasks first showed RUNNING (epoch ms). Spans recorded more than once (saves) are summed.
 */
export function segments(spans, t0, visibleAt) {
  const first = (name) => spans.find((s) => s.name === name);
  const end = (s) => s.at + s.ms;
  const out = {};
  for (const s of spans) if (s.ms > 0 || !['server.runtask', 'server.pushed', 'agent.received', 'agent.report.wanted'].includes(s.name)) out[s.name] = (out[s.name] ?? 0) + s.ms;
  const saves = spans.filter((s) => s.name === 'agent.save').length;
  if (saves) out['agent.save.count'] = saves;
  const runtask = first('server.runtask');
  const commit = first('server.commit');
  const pushed = first('server.pushed');
  const received = first('agent.received');
  const started = first('agent.start');
  const wanted = first('agent.report.wanted');
  const report = first('agent.report');
  if (runtask) out['gap.client→server'] = runtask.at - t0;
  if (commit && pushed) out['gap.commit→pushed'] = pushed.at - end(commit);
  if (pushed && received) out['gap.push→agent'] = received.at - pushed.at;
  if (received && started) out['agent.received→started'] = end(started) - received.at;
  if (wanted && report) out['agent.report.waited'] = report.at - wanted.at;
  if (report) out['gap.report→visible'] = visibleAt - end(report);
  out.total = visibleAt - t0;
  return out;
}

/** Median of each segment over `tasks` ({ arn, t0, visibleAt }), rounded to 0.1 ms; `missing`: tasks without spans. */
export function summarizeSpans(tasks, ...logs) {
  const byTask = spansByTask(...logs);
  const rows = [];
  let missing = 0;
  for (const t of tasks) {
    const spans = byTask.get(t.arn);
    if (!spans) {
      missing++;
      continue;
    }
    rows.push(segments(spans, t.t0, t.visibleAt));
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length / 2) - 1];
  const summary = Object.fromEntries(
    keys.map((k) => {
      const xs = rows.map((r) => r[k]).filter((x) => x !== undefined);
      return [k, Math.round(median(xs) * 10) / 10];
    }),
  );
  return { tasks: rows.length, missing, median_ms: summary };
}
