import { describe, expect, it } from 'vitest';
import { placementRequestOf } from './placement-request.js';

const td = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
  placementConstraints: [{ type: 'memberOf' as const, expression: 'attribute:ecs.instance-type == t2.small' }],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' }, { name: 'custom', value: 'x' }],
};
const base = { count: 2, needs: { cpu: 10, memory: 20, ports: [], portsUdp: [] }, group: 'family:web' };

describe('placementRequestOf', () => {
  it("joins the task definition's constraints with the caller's and maps strategies and required attributes", () => {
    const request = placementRequestOf(td, base, [{ type: 'distinctInstance' }], [{ type: 'spread', field: 'instanceId' }, { type: 'random' }]);
    expect(request).toEqual({
      ...base,
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == t2.small' }, { type: 'distinctInstance' }],
      strategies: [{ type: 'spread', field: 'instanceId' }, { type: 'random' }],
      requiredAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' }, { name: 'custom', value: 'x' }],
    });
  });

  it('refuses more than ten constraints together, and malformed expressions, as InvalidParameterException', () => {
    const eleven = Array.from({ length: 10 }, () => ({ type: 'distinctInstance' as const }));
    expect(() => placementRequestOf(td, base, eleven)).toThrow(/at most 10 placement constraints .* this one has 11/);
    expect(() => placementRequestOf(td, base, [{ type: 'memberOf', expression: 'attribute:x ==' }])).toThrow(
      expect.objectContaining({ type: 'InvalidParameterException' }),
    );
  });
});
