import { describe, expect, it } from 'vitest';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { exampleMismatches } from './example-shape.js';

const model = loadServiceModel('ecs-2014-11-13.json');
const example = {
  clusters: [{ clusterArn: 'arn:aws:ecs:us-east-1:012345678910:cluster/default', clusterName: 'default', status: 'ACTIVE', runningTasksCount: 0 }],
  failures: [],
};
const toFixture = (s: string) => s.replaceAll('012345678910', '123456789012');
const check = (actual: unknown, rules = {}) => exampleMismatches(model, 'DescribeClustersResponse', example, actual, { mapString: toFixture, ...rules });
const good = () => ({
  clusters: [{ clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/default', clusterName: 'default', status: 'ACTIVE', runningTasksCount: 0, tags: [] }],
  failures: [],
});

describe('exampleMismatches', () => {
  it('accepts an answer with the example\'s members and values, and more members', () => {
    expect(check(good())).toEqual([]);
  });

  it('reports a missing member, a different enum, a different number and a different name', () => {
    const answer = good();
    const { runningTasksCount: _gone, ...rest } = answer.clusters[0]!;
    answer.clusters[0] = { ...rest, status: 'INACTIVE', clusterName: 'other' } as never;
    expect(check(answer)).toEqual([
      'clusters[].clusterName: "other", the example has "default"',
      'clusters[].status: "INACTIVE", the example has "ACTIVE"',
      'clusters[].runningTasksCount: missing (example has 0)',
    ]);
  });

  it('compares ARNs by account, region and resource type, not by id', () => {
    const answer = good();
    answer.clusters[0]!.clusterArn = 'arn:aws:ecs:us-east-1:999999999999:cluster/default';
    expect(check(answer)).toEqual([expect.stringMatching(/^clusters\[\]\.clusterArn: ARN .* in its account$/)]);
    answer.clusters[0]!.clusterArn = 'arn:aws:ecs:us-east-1:123456789012:service/default';
    expect(check(answer)).toEqual([expect.stringMatching(/in its type$/)]);
  });

  it('reports lists of another length, and rules that no longer match anything', () => {
    expect(check({ ...good(), failures: [{ arn: 'x', reason: 'MISSING' }] })).toEqual(['failures: 1 items, the example has 0']);
    expect(check(good(), { differs: { 'clusters[].nothing': 'stale' } })).toEqual(['clusters[].nothing: rule for a path the example does not reach']);
  });
});
