#!/usr/bin/env node
// Placement throughput of the pure engine (dist/scheduler, so run `npm run build` first): one `place` call puts
// 50,000 tasks on a simulated cluster in 3 zones with spread(attribute:ecs.availability-zone) then
// binpack(memory) and a memberOf constraint, at 500, 5,000 and 50,000 instances (instances sized so the 50,000
// tasks fit each time), so the growth of the cost per task is visible. Time includes the call's set-up (reading
// the snapshot, evaluating the constraint on every instance). Each figure is the median of --runs runs; the last
// line printed is one JSON object whose `placements_per_second` is the 5,000-instance figure.
//
//   npm run --silent bench:placement [-- --runs 5 --tasks 50000]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { place } from '../dist/scheduler/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, tasks: { type: 'string', default: '50000' } } });
const runs = Number(values.runs);
const tasks = Number(values.tasks);
const SIZES = [500, 5_000, 50_000];
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const TYPES = ['m5.large', 'm5.xlarge', 'c5.xlarge'];
const CONSTRAINT = 'attribute:ecs.instance-type =~ m5.* and agentVersion >= 1.14.5';
const STRATEGIES = [
  { type: 'spread', field: 'attribute:ecs.availability-zone' },
  { type: 'binpack', field: 'memory' },
];
const NEEDS = { cpu: 128, memory: 256, ports: [], portsUdp: [] };

/** `n` instances round-robin over 3 zones; 2 of 3 types match the constraint; room for twice the tasks among those. */
function cluster(n) {
  const eligible = Math.ceil((n * 2) / 3);
  const perInstance = Math.ceil((2 * tasks) / eligible);
  return Array.from({ length: n }, (_, k) => ({
    id: `ci-${k}`,
    arn: `arn:aws:ecs:us-east-1:000000000000:container-instance/bench/ci-${k}`,
    ec2InstanceId: `i-${k.toString(16).padStart(17, '0')}`,
    status: 'ACTIVE',
    agentConnected: true,
    agentVersion: k % 7 === 0 ? '1.14.5' : '1.20.0',
    registeredAt: 1_700_000_000 + k,
    attributes: new Map([
      ['ecs.availability-zone', ZONES[k % 3]],
      ['ecs.instance-type', TYPES[Math.floor(k / 3) % 3]],
      ['ecs.os-type', 'linux'],
    ]),
    // Uneven memory so binpack has something to choose between.
    remaining: { cpu: perInstance * NEEDS.cpu, memory: perInstance * NEEDS.memory + (k % 5) * 64, ports: [22, 2375, 2376, 51678, 51679], portsUdp: [] },
    tasks: [],
  }));
}

const request = (count) => ({ count, needs: NEEDS, group: 'service:bench', strategies: STRATEGIES, constraints: [{ type: 'memberOf', expression: CONSTRAINT }] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(instances, count, options, times_ = runs) {
  const times = [];
  for (let r = 0; r < times_; r++) {
    const start = performance.now();
    const result = place(instances, request(count), r + 1, options);
    times.push(performance.now() - start);
    if (result.placements.length !== count) throw new Error(`placed ${result.placements.length} of ${count}: ${result.failures[0]?.message}`);
  }
  const ms = median(times);
  return { placements_per_second: Math.round(count / (ms / 1000)), ms_per_call: +ms.toFixed(2), us_per_placement: +((ms * 1000) / count).toFixed(3) };
}

// Warm the JIT on a small cluster first.
place(cluster(300), request(2_000), 0);

const bySize = {};
for (const n of SIZES) {
  const instances = cluster(n);
  bySize[n] = { ...measure(instances, tasks), setup_ms: measure(instances, 1, {}, 31).ms_per_call };
  console.error(`${n} instances: ${JSON.stringify(bySize[n])}`);
}
const at5000 = cluster(5_000);
const scan = measure(at5000, tasks, { selection: 'scan' });
console.error(`5000 instances, scan selection: ${JSON.stringify(scan)}`);
// RunTask places at most 10 tasks a call, each call paying the set-up over the whole cluster.
const runTask = measure(at5000, 10, {}, 31);
console.error(`5000 instances, RunTask-sized calls (10 tasks): ${JSON.stringify(runTask)}`);

console.log(
  JSON.stringify({
    bench: 'placement',
    tasks,
    strategies: 'spread(attribute:ecs.availability-zone), binpack(memory)',
    constraint: `memberOf(${CONSTRAINT})`,
    runs,
    placements_per_second: bySize[5_000].placements_per_second,
    by_instances: bySize,
    scan_selection_at_5000: scan,
    runtask_calls_of_10_at_5000: runTask,
    node: process.version,
  }),
);
