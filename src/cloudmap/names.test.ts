import { describe, expect, it } from 'vitest';
import { checkDnsNamespaceName, checkDnsServiceName, dnsNameProblem, parseCloudMapArn, serviceIdOf } from './names.js';

describe('Cloud Map names', () => {
  it('accepts RFC 1035 domain names and lower-cases them', () => {
    expect(checkDnsNamespaceName('Example.Internal')).toBe('example.internal');
    expect(checkDnsNamespaceName('a-b.c1.')).toBe('a-b.c1');
    expect(dnsNameProblem('x'.repeat(63) + '.local')).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['1abc.internal', "label '1abc'"],
    ['abc-.internal', "label 'abc-'"],
    ['a..b', "label ''"],
    ['under_score.local', "label 'under_score'"],
    ['x'.repeat(64) + '.local', 'not an RFC 1035 label'],
    [Array.from({ length: 130 }, () => 'ab').join('.'), 'longer than 253'],
  ])('refuses %j, naming the field and the label', (name, part) => {
    expect(() => checkDnsNamespaceName(name)).toThrow(part);
    try {
      checkDnsNamespaceName(name);
    } catch (error) {
      expect((error as { type: string }).type).toBe('InvalidInput');
      expect((error as Error).message).toContain('Name');
    }
  });

  it('allows SRV-style underscore labels in service names only', () => {
    expect(() => checkDnsServiceName('_http._tcp', 'example.local')).not.toThrow();
    expect(() => checkDnsServiceName('backend', 'example.local')).not.toThrow();
    expect(() => checkDnsServiceName('back_end', 'example.local')).toThrow(/back_end/);
    expect(() => checkDnsNamespaceName('_http.local')).toThrow(/_http/);
  });

  it('takes ids or ARNs', () => {
    expect(serviceIdOf('arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1')).toBe('srv-1');
    expect(serviceIdOf('srv-2')).toBe('srv-2');
    expect(parseCloudMapArn('arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1')).toEqual({ kind: 'namespace', id: 'ns-1' });
    expect(parseCloudMapArn('arn:aws:ecs:us-east-1:123456789012:cluster/x')).toBeUndefined();
  });
});
