import { describe, expect, it } from 'vitest';
import { InvalidDesiredStateError, parseMatcher, planChange, targetGroupsInUse, validateDesiredState, type DesiredState, type Listener } from './desired.js';
import { albState, targetGroup } from './testing/lb-lab.js';

const t = (port: number) => ({ address: '10.0.0.1', port });
const listener = (tgs: string[], port = 80): Listener => ({ id: `l${port}`, port, protocol: 'HTTP', defaultAction: { type: 'forward', targetGroups: tgs.map((id) => ({ targetGroupId: id, weight: 1 })) }, rules: [] });

describe('planChange', () => {
  const base = albState([listener(['a'])], [targetGroup('a', [t(1), t(2)]), targetGroup('b', [t(3)])]);
  it('targets alone go through the runtime API, listing what was added and removed per group', () => {
    const next = albState([listener(['a'])], [targetGroup('a', [t(2), t(4)]), targetGroup('b', [t(3)])]);
    expect(planChange(base, next)).toEqual({ kind: 'targets', added: [{ targetGroupId: 'a', target: t(4) }], removed: [{ targetGroupId: 'a', target: t(1) }] });
  });
  it('a listener, rule or target group change is a reload', () => {
    expect(planChange(base, albState([listener(['b'])], base.targetGroups)).kind).toBe('reload');
    expect(planChange(base, albState([listener(['a'])], [targetGroup('a', [t(1), t(2)], { attributes: { slowStartSeconds: 30 } }), base.targetGroups[1]!])).kind).toBe('reload');
  });
  it('the same state is no change', () => {
    expect(planChange(base, structuredClone(base) as DesiredState)).toEqual({ kind: 'none' });
  });
});

describe('validateDesiredState', () => {
  const bad = (s: DesiredState, message: RegExp) => expect(() => validateDesiredState(s)).toThrow(message);
  it('refuses what cannot be rendered, naming the field', () => {
    bad(albState([listener(['nope'])], []), /unknown target group nope/);
    bad(albState([listener(['a']), listener(['a'])], [targetGroup('a', [])]), /port 80 used twice/);
    bad(albState([listener(['a'])], [targetGroup('a', [t(1), t(1)])]), /duplicate 10.0.0.1:1/);
    bad(albState([listener(['a'])], [targetGroup('a', [{ address: 'x y', port: 1 }])]), /bad address/);
    bad(albState([listener(['a'])], [targetGroup('a', [], { protocol: 'TCP' })]), /HTTP listener cannot forward to TCP target group a/);
    expect(() => validateDesiredState(albState([listener(['a'])], [targetGroup('a', [t(1)])]))).not.toThrow();
    expect(() => validateDesiredState(albState([], [targetGroup('a', [], { healthCheck: { ...targetGroup('a', []).healthCheck, matcher: '2xx' } })]))).toThrow(InvalidDesiredStateError);
  });
});

describe('matchers and use', () => {
  it('parses codes and ranges', () => {
    expect(parseMatcher('200,202-204')).toEqual([200, 202, 203, 204]);
    expect(() => parseMatcher('700')).toThrow(/outside 100-599/);
  });
  it('a group no listener forwards to is not in use', () => {
    expect([...targetGroupsInUse(albState([listener(['a'])], [targetGroup('a', []), targetGroup('b', [])]))]).toEqual(['a']);
  });
});
