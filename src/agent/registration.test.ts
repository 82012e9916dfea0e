import { describe, expect, it } from 'vitest';
import { refusal } from './registration.js';

describe('refusal', () => {
  it('names AccessDeniedException and what the agent needs, keeping the policy verdict and the cause', () => {
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/x is not authorized to perform: ecs:RegisterContainerInstance'), {
      name: 'AccessDeniedException',
    });
    const e = refusal(denied)!;
    expect(e.message).toBe(
      'the control plane refused to register this container instance: AccessDeniedException: User: arn:aws:iam::123456789012:user/x is not authorized to ' +
        "perform: ecs:RegisterContainerInstance (the agent's credentials need what AmazonEC2ContainerServiceforEC2Role allows; see docs/agent.md)",
    );
    expect(e.cause).toBe(denied);
  });

  it('leaves any other error alone', () => {
    expect(refusal(Object.assign(new Error('no such cluster'), { name: 'ClusterNotFoundException' }))).toBeUndefined();
    expect(refusal(new Error('connect ECONNREFUSED'))).toBeUndefined();
  });
});
