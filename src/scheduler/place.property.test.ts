import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskNeeds } from '../model/task.js';
import { compileCql } from './cql/compile.js';
import { place } from './place.js';
import type { PlacementConstraint, PlacementRequest, PlacementStrategy } from './request.js';
import type { InstanceSnapshot } from './snapshot.js';
import { instance } from './testing/instances.js';
import { cqlView } from './cql/instance-view.js';

const GROUP = 'service:web';
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', undefined] as const;
const PORTS = [80, 443, 8080] as const;

const arbInstance = (k: number) =>
  fc
    .record({
      status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING'),
      connected: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      zone: fc.constantFrom(...ZONES),
      type: fc.constantFrom('t2.small', 'm5.large', 'g2.2xlarge'),
      cpu: fc.integer({ min: 0, max: 4096 }),
      memory: fc.integer({ min: 0, max: 8192 }),
      ports: fc.subarray([...PORTS]),
      own: fc.integer({ min: 0, max: 3 }),
      other: fc.integer({ min: 0, max: 3 }),
      agentVersion: fc.constantFrom('1.14.4', '1.14.5', '1.20.0'),
    })
    .map(
      (r): InstanceSnapshot =>
        instance(`i${k}`, {
          status: r.status,
          agentConnected: r.connected,
          agentVersion: r.agentVersion,
          attributes: { ...(r.zone ? { 'ecs.availability-zone': r.zone } : {}), 'ecs.instance-type': r.type },
          remaining: { cpu: r.cpu, memory: r.memory, ports: r.ports },
          tasks: [
            ...Array.from({ length: r.own }, (_, n) => ({ taskId: `i${k}-own${n}`, group: GROUP })),
            ...Array.from({ length: r.other }, (_, n) => ({ taskId: `i${k}-other${n}`, group: n % 2 ? 'database' : 'family:batch' })),
          ],
        }),
    );

const arbCluster = fc.integer({ min: 0, max: 25 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => arbInstance(k))));

const STRATEGY_CHAINS: PlacementStrategy[][] = [
  [],
  [{ type: 'random' }],
  [{ type: 'binpack', field: 'memory' }],
  [{ type: 'binpack', field: 'cpu' }],
  [{ type: 'spread', field: 'instanceId' }],
  [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
  [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }],
  [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'spread', field: 'instanceId' }],
  [{ type: 'binpack', field: 'memory' }, { type: 'spread', field: 'attribute:ecs.availability-zone' }],
  [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'spread', field: 'attribute:ecs.instance-type' }],
];

const CONSTRAINT_SETS: PlacementConstraint[][] = [
  [],
  [{ type: 'distinctInstance' }],
  [{ type: 'memberOf', expression: 'attribute:ecs.instance-type != g2.2xlarge' }],
  [{ type: 'memberOf', expression: 'agentVersion >= 1.14.5 and attribute:ecs.availability-zone exists' }],
  [{ type: 'memberOf', expression: 'runningTasksCount < 4' }],
  [{ type: 'memberOf', expression: 'not(task:group == database)' }, { type: 'distinctInstance' }],
  [{ type: 'memberOf', expression: `not(task:group == ${GROUP}) or runningTasksCount <= 2` }],
];

const arbNeeds: fc.Arbitrary<TaskNeeds> = fc.record({
  cpu: fc.integer({ min: 0, max: 1024 }),
  memory: fc.integer({ min: 0, max: 2048 }),
  ports: fc.subarray([...PORTS], { maxLength: 1 }),
  portsUdp: fc.constant([]),
});

const arbRequest: fc.Arbitrary<PlacementRequest> = fc.record({
  count: fc.integer({ min: 0, max: 40 }),
  needs: arbNeeds,
  group: fc.constant(GROUP),
  strategies: fc.constantFrom(...STRATEGY_CHAINS),
  constraints: fc.constantFrom(...CONSTRAINT_SETS),
});

/**
 * An independent, naive model of placement: what each instance has left after the tasks placed so far, whether it
 * may take one more, and the strategy keys of the chain (without the random tie-break). Written apart from the
 * engine so the two can disagree.
 */
class Model {
  private readonly cpu = new Map<string, number>();
  private readonly memory = new Map<string, number>();
  private readonly placed = new Map<string, number>();

  constructor(
    private readonly instances: readonly InstanceSnapshot[],
    private readonly request: PlacementRequest,
  ) {
    for (const s of instances) {
      this.cpu.set(s.id, s.remaining.cpu);
      this.memory.set(s.id, s.remaining.memory);
      this.placed.set(s.id, 0);
    }
  }

  /** The snapshot of `s` with this request's tasks so far added. */
  private current(s: InstanceSnapshot): InstanceSnapshot {
    const extra = Array.from({ length: this.placed.get(s.id)! }, (_, n) => ({ taskId: `new${n}`, group: GROUP }));
    return { ...s, tasks: [...s.tasks, ...extra] };
  }

  canTake(s: InstanceSnapshot): boolean {
    const { needs, constraints = [] } = this.request;
    if (s.status !== 'ACTIVE' || !s.agentConnected) return false;
    if (needs.cpu > this.cpu.get(s.id)! || needs.memory > this.memory.get(s.id)!) return false;
    if (needs.ports.some((p) => s.remaining.ports.includes(p))) return false;
    if (needs.ports.length > 0 && this.placed.get(s.id)! > 0) return false;
    const now = this.current(s);
    for (const c of constraints) {
      if (c.type === 'distinctInstance' && now.tasks.some((t) => t.group === GROUP)) return false;
      if (c.type === 'memberOf' && !compileCql(c.expression!).matches(cqlView(now))) return false;
    }
    return true;
  }

  /** The chain's keys for `s`, lower first, up to the first random strategy. */
  keys(s: InstanceSnapshot): number[] {
    const keys: number[] = [];
    const groupTasks = (x: InstanceSnapshot) => this.current(x).tasks.filter((t) => t.group === GROUP).length;
    for (const st of this.request.strategies ?? []) {
      if (st.type === 'random') break;
      if (st.type === 'binpack') keys.push(st.field === 'cpu' ? this.cpu.get(s.id)! : this.memory.get(s.id)!);
      else if (st.field === 'instanceId') keys.push(groupTasks(s));
      else {
        const name = st.field!.slice('attribute:'.length);
        const value = s.attributes.get(name);
        let count = 0;
        for (const x of this.instances) if (x.status === 'ACTIVE' && x.attributes.get(name) === value) count += groupTasks(x);
        keys.push(count);
      }
    }
    return keys;
  }

  record(id: string): void {
    this.cpu.set(id, this.cpu.get(id)! - this.request.needs.cpu);
    this.memory.set(id, this.memory.get(id)! - this.request.needs.memory);
    this.placed.set(id, this.placed.get(id)! + 1);
  }
}

const lexCompare = (a: number[], b: number[]) => {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
};

describe('place: properties', () => {
  it('places only where the model says a task fits, on a best-ranked instance, and stops only when none fits', () => {
    fc.assert(
      fc.property(arbCluster, arbRequest, fc.integer(), (instances, request, seed) => {
        const result = place(instances, request, seed);
        const model = new Model(instances, request);
        const byId = new Map(instances.map((s) => [s.id, s]));
        for (const id of result.placements) {
          const chosen = byId.get(id)!;
          expect(model.canTake(chosen)).toBe(true);
          const best = instances.filter((s) => model.canTake(s)).map((s) => model.keys(s));
          for (const k of best) expect(lexCompare(model.keys(chosen), k)).toBeLessThanOrEqual(0);
          model.record(id);
        }
        expect(result.placements.length + result.failures.length).toBe(request.count);
        if (result.failures.length > 0) expect(instances.filter((s) => model.canTake(s))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never over-commits CPU, memory or ports', () => {
    fc.assert(
      fc.property(arbCluster, arbRequest, fc.integer(), (instances, request, seed) => {
        const { placements } = place(instances, request, seed);
        for (const s of instances) {
          const n = placements.filter((id) => id === s.id).length;
          if (n === 0) continue;
          expect(s.status).toBe('ACTIVE');
          expect(s.agentConnected).toBe(true);
          expect(n * request.needs.cpu).toBeLessThanOrEqual(s.remaining.cpu);
          expect(n * request.needs.memory).toBeLessThanOrEqual(s.remaining.memory);
          if (request.needs.ports.length > 0) {
            expect(n).toBe(1);
            for (const p of request.needs.ports) expect(s.remaining.ports).not.toContain(p);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same answer through the index and the scan, and again for the same seed', () => {
    const indexable = STRATEGY_CHAINS.slice(0, 8);
    fc.assert(
      fc.property(arbCluster, arbRequest, fc.constantFrom(...indexable), fc.integer(), (instances, request, strategies, seed) => {
        const r = { ...request, strategies };
        const indexed = place(instances, r, seed, { selection: 'indexed' });
        expect(place(instances, r, seed, { selection: 'scan' })).toEqual(indexed);
        expect(place(instances, r, seed)).toEqual(indexed);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps spread within one task of balanced when every value has room', () => {
    const arbRoomy = fc
      .tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 20, maxLength: 20 }))
      .map(([n, zones, own]) =>
        Array.from({ length: n }, (_, k) =>
          instance(`i${k}`, {
            attributes: { 'ecs.availability-zone': `z${k % zones}` },
            remaining: { cpu: 1e6, memory: 1e6 },
            tasks: Array.from({ length: own[k]! }, (_, t) => ({ taskId: `i${k}-${t}`, group: GROUP })),
          }),
        ),
      );
    const fields = ['attribute:ecs.availability-zone', 'instanceId'] as const;
    fc.assert(
      fc.property(arbRoomy, fc.integer({ min: 0, max: 60 }), fc.constantFrom(...fields), fc.integer(), (instances, count, field, seed) => {
        const valueOf = (s: InstanceSnapshot) => (field === 'instanceId' ? s.id : s.attributes.get('ecs.availability-zone')!);
        const totals = new Map<string, number>();
        for (const s of instances) totals.set(valueOf(s), (totals.get(valueOf(s)) ?? 0) + s.tasks.length);
        const { placements } = place(instances, { count, needs: { cpu: 1, memory: 1, ports: [], portsUdp: [] }, group: GROUP, strategies: [{ type: 'spread', field }] }, seed);
        expect(placements).toHaveLength(count);
        const byId = new Map(instances.map((s) => [s.id, s]));
        for (const id of placements) {
          // Each task goes to a value that has the fewest tasks of the group at that moment…
          const v = valueOf(byId.get(id)!);
          expect(totals.get(v)).toBe(Math.min(...totals.values()));
          totals.set(v, totals.get(v)! + 1);
          // …so any value that received tasks is never more than one ahead of any other.
        }
        const least = Math.min(...totals.values());
        for (const id of new Set(placements)) expect(totals.get(valueOf(byId.get(id)!))! - least).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
