import { describe, expect, it } from 'vitest';
import { InvalidReferenceError, formatReference, parseReference, registryApiHost, withDigest } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;
const norm = (s: string) => formatReference(parseReference(s));

describe('image references', () => {
  it('normalise like Docker', () => {
    expect(norm('busybox')).toBe('docker.io/library/busybox:latest');
    expect(norm('busybox:1.36')).toBe('docker.io/library/busybox:1.36');
    expect(norm('someone/app')).toBe('docker.io/someone/app:latest');
    expect(norm('index.docker.io/library/busybox')).toBe('docker.io/library/busybox:latest');
    expect(norm('docker.io/busybox')).toBe('docker.io/library/busybox:latest');
    expect(norm('localhost/app')).toBe('localhost/app:latest');
    expect(norm('127.0.0.1:5000/ns/repo:v1')).toBe('127.0.0.1:5000/ns/repo:v1');
    expect(norm('registry.example.com/a/b/c')).toBe('registry.example.com/a/b/c:latest');
    expect(norm('[::1]:5000/app:v2')).toBe('[::1]:5000/app:v2');
    expect(norm('my_org__x/a-b--c.d')).toBe('docker.io/my_org__x/a-b--c.d:latest');
  });

  it('keep digests, and add latest only when there is neither tag nor digest', () => {
    expect(parseReference(`busybox@${D}`)).toEqual({ domain: 'docker.io', repository: 'library/busybox', digest: D });
    expect(norm(`host:5000/repo:v1@${D}`)).toBe(`host:5000/repo:v1@${D}`);
    expect(formatReference(withDigest(parseReference('host:5000/repo:v1'), D))).toBe(`host:5000/repo@${D}`);
  });

  it.each([
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:', /invalid tag/],
    ['busybox:-x', /invalid tag/],
    [`busybox:${'a'.repeat(129)}`, /invalid tag/],
    ['busybox@sha256:abc', /sha256 needs 64/],
    [`busybox@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['a//b', /empty path component/],
    ['host:5000/', /empty path component/],
    ['-bad/repo', /invalid repository path component/],
    ['repo/Name', /lowercase/],
    ['host:99999/repo', /invalid registry port/],
    ['ho_st.com/repo', /invalid registry host/],
    [' busybox', /whitespace/],
    [`x/${'a'.repeat(260)}`, /longer than 255/],
  ])('reject %j with a message naming the problem', (text, message) => {
    expect(() => parseReference(text)).toThrow(InvalidReferenceError);
    expect(() => parseReference(text)).toThrow(message);
  });

  it('send Docker Hub names to registry-1.docker.io', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});
