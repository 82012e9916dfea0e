import { describe, expect, it } from 'vitest';
import { compileAgentConfig } from './config.js';
import { refusal, registrationAttributes } from './registration.js';

describe('registrationAttributes: berth.host-address', () => {
  const config = (env: Record<string, string> = {}) => compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env, readFile: () => undefined });
  const hostAddress = (attrs: { name?: string; value?: string }[]) => attrs.filter((a) => a.name === 'berth.host-address').map((a) => a.value);

  it('registers the address it is given (BERTH_HOST_ADDRESS or the route source)', () => {
    expect(hostAddress(registrationAttributes(config(), '10.0.0.7'))).toEqual(['10.0.0.7']);
    expect(hostAddress(registrationAttributes(config(), undefined))).toEqual([]);
  });

  it('leaves the value to ECS_INSTANCE_ATTRIBUTES when that sets it (one attribute: the operator sets it)', () => {
    const c = config({ ECS_INSTANCE_ATTRIBUTES: '{"berth.host-address":"192.0.2.9"}' });
    expect(hostAddress(registrationAttributes(c, '10.0.0.7'))).toEqual(['192.0.2.9']);
  });

  it('BERTH_HOST_ADDRESS must be an IP address, and is refused naming the setting otherwise', () => {
    expect(config({ BERTH_HOST_ADDRESS: ' 10.1.2.3 ' }).hostAddress).toBe('10.1.2.3');
    expect(config({ BERTH_HOST_ADDRESS: 'fd00::5' }).hostAddress).toBe('fd00::5');
    expect(config().hostAddress).toBeUndefined();
    expect(() => config({ BERTH_HOST_ADDRESS: 'host.example' })).toThrow(/BERTH_HOST_ADDRESS: expected an IPv4 or IPv6 address, got 'host.example'/);
  });
});

describe('registrationAttributes: a Fargate pool host', () => {
  const config = (env: Record<string, string>, fargate?: boolean) =>
    compileAgentConfig({ flags: { endpoint: 'http://h:1', ...(fargate ? { fargate } : {}) }, env, readFile: () => undefined });
  const names = (env: Record<string, string>, fargate?: boolean) => registrationAttributes(config(env, fargate)).map((a) => a.name);

  it('registers berth.fargate-pool and no privileged-container capability with BERTH_FARGATE=true or --fargate', () => {
    for (const c of [names({ BERTH_FARGATE: 'true' }), names({}, true)]) {
      expect(c).toContain('berth.fargate-pool');
      expect(c).not.toContain('com.amazonaws.ecs.capability.privileged-container');
    }
    expect(names({})).not.toContain('berth.fargate-pool');
    expect(names({})).toContain('com.amazonaws.ecs.capability.privileged-container');
    expect(() => config({ BERTH_FARGATE: 'yes' })).toThrow(/BERTH_FARGATE: expected true or false, got 'yes'/);
  });
});

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
