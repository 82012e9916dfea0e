import type { CompiledCql } from './cql/compile.js';
import type { CqlInstanceView } from './cql/instance-view.js';
import { ACCEPTED, rejectionCode } from './rejections.js';
import type { PreparedRequest } from './request.js';
import type { Random } from './rng.js';
import type { InstanceSnapshot } from './snapshot.js';

const AGENT = rejectionCode('AGENT');
const ATTRIBUTE = rejectionCode('ATTRIBUTE');
const CPU = rejectionCode('RESOURCE:CPU');
const MEMORY = rejectionCode('RESOURCE:MEMORY');
const PORTS = rejectionCode('RESOURCE:PORTS');
const MEMBER_OF = rejectionCode('MemberOf placement constraint unsatisfied.');
const DISTINCT = rejectionCode('DistinctInstance placement constraint unsatisfied.');

/**
 * The working copy one `place` call mutates: the ACTIVE instances of the snapshot as parallel typed arrays
 * (index = position in `instances`), updated as tasks are placed. Placing a task changes only the chosen
 * instance's row (and its spread counts), which is what lets the selectors re-rank one instance per task.
 *
 * The feasibility pipeline lives in {@link ClusterState.evaluate}: agent, required attributes, CPU, memory,
 * ports, memberOf, distinctInstance — the first check an instance fails is recorded as its rejection.
 */
export class ClusterState {
  readonly instances: readonly InstanceSnapshot[];
  readonly size: number;
  readonly cpu: Float64Array;
  readonly memory: Float64Array;
  /** Tasks of the request's group on each instance, including the ones placed by this call. */
  readonly groupTasks: Float64Array;
  /** Tasks placed on each instance by this call. */
  readonly placed: Int32Array;
  /**
   * The per-instance random key, the final tie-break and the `random` strategy: an exponential clock, started at a
   * random Exp(1) time and advanced by another when the instance receives a task. Lowest goes first; because
   * exponential waits are memoryless, each pick among instances that tie on everything else is uniform, and
   * no instance starves (a key merely redrawn when chosen would let instances with a high first draw wait
   * forever).
   */
  readonly rank: Float64Array;
  /** 0 when the instance can take the next task, else its rejection code (see rejections.ts). */
  readonly rejection: Uint8Array;

  private readonly request: PreparedRequest;
  private readonly random: Random;
  /** Checks that never change during the call: agent, attributes, ports taken by others, static memberOf. */
  private readonly fixedRejection: Uint8Array;
  private readonly dynamicMemberOf: readonly CompiledCql[];
  private readonly view: StateView;

  constructor(snapshot: readonly InstanceSnapshot[], request: PreparedRequest, random: Random) {
    this.instances = snapshot.filter((s) => s.status === 'ACTIVE');
    const n = (this.size = this.instances.length);
    this.request = request;
    this.random = random;
    this.cpu = new Float64Array(n);
    this.memory = new Float64Array(n);
    this.groupTasks = new Float64Array(n);
    this.placed = new Int32Array(n);
    this.rank = new Float64Array(n);
    this.rejection = new Uint8Array(n);
    this.fixedRejection = new Uint8Array(n);
    this.view = new StateView(this, request.group);
    const staticMemberOf = request.memberOf.filter((c) => !c.dependsOnTasks);
    this.dynamicMemberOf = request.memberOf.filter((c) => c.dependsOnTasks);
    const portsTwice = hasDuplicates(request.needs.ports) || hasDuplicates(request.needs.portsUdp);
    for (let i = 0; i < n; i++) {
      const s = this.instances[i]!;
      this.cpu[i] = s.remaining.cpu;
      this.memory[i] = s.remaining.memory;
      let own = s.groupCounts?.get(request.group) ?? 0;
      if (!s.groupCounts) for (const t of s.tasks) if (t.group === request.group) own++;
      this.groupTasks[i] = own;
      this.rank[i] = exponential(random);
      this.view.at(i);
      this.fixedRejection[i] = !s.agentConnected
        ? AGENT
        : !this.hasRequiredAttributes(s)
          ? ATTRIBUTE
          : portsTwice || overlaps(request.needs.ports, s.remaining.ports) || overlaps(request.needs.portsUdp, s.remaining.portsUdp)
            ? PORTS
            : matchesAll(staticMemberOf, this.view)
              ? ACCEPTED
              : MEMBER_OF;
      this.rejection[i] = this.evaluate(i);
    }
  }

  /** The first check of the pipeline instance `i` fails now, or 0 when it can take the next task. */
  evaluate(i: number): number {
    const fixed = this.fixedRejection[i]!;
    if (fixed === AGENT || fixed === ATTRIBUTE) return fixed;
    const needs = this.request.needs;
    if (needs.cpu > this.cpu[i]!) return CPU;
    if (needs.memory > this.memory[i]!) return MEMORY;
    if (fixed !== ACCEPTED) return fixed;
    // A task with host ports cannot share an instance with another task of the same request.
    if (this.placed[i]! > 0 && (needs.ports.length > 0 || needs.portsUdp.length > 0)) return PORTS;
    if (this.dynamicMemberOf.length > 0) {
      this.view.at(i);
      for (const c of this.dynamicMemberOf) if (!c.matches(this.view)) return MEMBER_OF;
    }
    if (this.request.distinctInstance && this.groupTasks[i]! > 0) return DISTINCT;
    return ACCEPTED;
  }

  /** Record one task placed on `i`, advance its random clock and re-run its checks. */
  place(i: number): void {
    this.cpu[i] = this.cpu[i]! - this.request.needs.cpu;
    this.memory[i] = this.memory[i]! - this.request.needs.memory;
    this.placed[i] = this.placed[i]! + 1;
    this.groupTasks[i] = this.groupTasks[i]! + 1;
    this.rank[i] = this.rank[i]! + exponential(this.random);
    this.rejection[i] = this.evaluate(i);
  }

  /** The memberOf expression instance `i` fails now, for failure messages. */
  failingMemberOf(i: number): CompiledCql | undefined {
    this.view.at(i);
    return this.request.memberOf.find((c) => !c.matches(this.view));
  }

  /** The first required attribute instance `i` lacks, for failure messages. */
  missingAttribute(i: number): string | undefined {
    const s = this.instances[i]!;
    return this.request.requiredAttributes.find((a) => !satisfies(s, a.name, a.value))?.name;
  }

  private hasRequiredAttributes(s: InstanceSnapshot): boolean {
    for (const a of this.request.requiredAttributes) if (!satisfies(s, a.name, a.value)) return false;
    return true;
  }
}

function matchesAll(expressions: readonly CompiledCql[], view: CqlInstanceView): boolean {
  for (const c of expressions) if (!c.matches(view)) return false;
  return true;
}

/** An Exp(1) wait. */
function exponential(random: Random): number {
  return -Math.log(1 - random());
}

function satisfies(s: InstanceSnapshot, name: string, value: string | undefined): boolean {
  return s.attributes.has(name) && (value === undefined || s.attributes.get(name) === value);
}

function overlaps(needed: readonly number[], taken: readonly number[]): boolean {
  if (needed.length === 0 || taken.length === 0) return false;
  for (const p of needed) if (taken.includes(p)) return true;
  return false;
}

function hasDuplicates(xs: readonly number[]): boolean {
  return new Set(xs).size !== xs.length;
}

/** One reusable CQL view over a row of the state, so evaluating expressions allocates nothing per instance. */
class StateView implements CqlInstanceView {
  private i = 0;
  private s!: InstanceSnapshot;
  private groupsCache: Map<number, Set<string>> | undefined;

  constructor(
    private readonly state: ClusterState,
    private readonly requestGroup: string,
  ) {}

  at(i: number): void {
    this.i = i;
    this.s = this.state.instances[i]!;
  }

  get agentConnected() {
    return this.s.agentConnected;
  }
  get agentVersion() {
    return this.s.agentVersion;
  }
  get ec2InstanceId() {
    return this.s.ec2InstanceId;
  }
  get registeredAt() {
    return this.s.registeredAt;
  }
  get attributes() {
    return this.s.attributes;
  }
  get runningTasksCount() {
    return this.s.tasks.length + this.state.placed[this.i]!;
  }

  hasTaskGroup(group: string): boolean {
    if (group === this.requestGroup) return this.state.groupTasks[this.i]! > 0;
    return this.snapshotGroups().has(group);
  }

  taskGroups(): Iterable<string> {
    const groups = this.snapshotGroups();
    if (this.state.placed[this.i]! === 0 || groups.has(this.requestGroup)) return groups;
    return [...groups, this.requestGroup];
  }

  private snapshotGroups(): Set<string> {
    this.groupsCache ??= new Map();
    let groups = this.groupsCache.get(this.i);
    if (!groups) {
      groups = new Set(this.s.tasks.map((t) => t.group));
      this.groupsCache.set(this.i, groups);
    }
    return groups;
  }
}
