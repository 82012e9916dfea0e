import { describe, expect, it } from 'vitest';
import { compileInsecureRegistries, isLoopbackHost, registryBaseUrl, splitHostPort } from './registry-endpoint.js';

describe('registry endpoints', () => {
  const none = compileInsecureRegistries([]);

  it('use plain HTTP for loopback hosts only', () => {
    expect(registryBaseUrl('127.0.0.1:5000', none)).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('127.3.2.1', none)).toBe('http://127.3.2.1');
    expect(registryBaseUrl('localhost:5000', none)).toBe('http://localhost:5000');
    expect(registryBaseUrl('[::1]:5000', none)).toBe('http://[::1]:5000');
    expect(registryBaseUrl('docker.io', none)).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('10.0.0.5:5000', none)).toBe('https://10.0.0.5:5000');
    expect(registryBaseUrl('128.0.0.1', none)).toBe('https://128.0.0.1');
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
  });

  it('use plain HTTP for listed insecure registries: host, host:port or CIDR', () => {
    const insecure = compileInsecureRegistries(['reg.internal', 'other.internal:5000', '10.1.0.0/16', ' ', 'http://scheme.internal/']);
    expect(registryBaseUrl('reg.internal:443', insecure)).toBe('http://reg.internal:443');
    expect(registryBaseUrl('other.internal:5000', insecure)).toBe('http://other.internal:5000');
    expect(registryBaseUrl('other.internal:6000', insecure)).toBe('https://other.internal:6000');
    expect(registryBaseUrl('10.1.2.3:5000', insecure)).toBe('http://10.1.2.3:5000');
    expect(registryBaseUrl('10.2.2.3:5000', insecure)).toBe('https://10.2.2.3:5000');
    expect(registryBaseUrl('scheme.internal', insecure)).toBe('http://scheme.internal');
  });

  it('reject malformed insecure-registry entries', () => {
    expect(() => compileInsecureRegistries(['10.0.0.0/40'])).toThrow(/invalid CIDR/);
    expect(() => compileInsecureRegistries(['a b'])).toThrow(/expected host/);
  });

  it('split hosts and ports', () => {
    expect(splitHostPort('[::1]:5000')).toEqual({ host: '::1', port: '5000' });
    expect(splitHostPort('h:1')).toEqual({ host: 'h', port: '1' });
    expect(splitHostPort('h')).toEqual({ host: 'h' });
  });
});
