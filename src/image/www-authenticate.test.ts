import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.js';

describe('WWW-Authenticate', () => {
  it('parses a registry Bearer challenge', () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });

  it('parses Basic, several challenges, unquoted values and escapes', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry \\"x\\""')).toEqual([{ scheme: 'basic', params: { realm: 'Registry "x"' } }]);
    expect(parseWwwAuthenticate('Basic realm=reg, Bearer realm="http://t/token", error="invalid_token"')).toEqual([
      { scheme: 'basic', params: { realm: 'reg' } },
      { scheme: 'bearer', params: { realm: 'http://t/token', error: 'invalid_token' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});
