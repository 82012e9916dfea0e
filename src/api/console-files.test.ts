import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { registerConsoleFiles } from './console-files.js';

describe('the console files route', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-files-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<meta name="berth-region" content="%BERTH_REGION%"><script src="/console/assets/a.js"></script>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'a.js.gz'), gzipSync('console.log(1)'));
  writeFileSync(join(dir, 'assets', 'b.css'), 'body{}');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const app = (options: { dir: string; region?: string }) => {
    const a = Fastify();
    registerConsoleFiles(a, { region: options.region ?? 'eu-west-1', dir: options.dir });
    return a;
  };

  it('serves the page at / and at any /console/ path, with the region written in and a strict CSP', async () => {
    const a = app({ dir, region: 'eu-west-1' });
    for (const url of ['/', '/console/clusters/default/services/web?x=1']) {
      const r = await a.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('content="eu-west-1"');
      expect(r.headers['content-security-policy']).toMatch(/script-src 'self';.*connect-src 'self'/);
      // xterm.js (the exec terminal) creates <style> elements; nothing else is relaxed, scripts least of all.
      expect(r.headers['content-security-policy']).toContain("style-src-elem 'self' 'unsafe-inline';");
      expect(String(r.headers['content-security-policy']).match(/unsafe-inline/g)).toHaveLength(1);
    }
    expect((await a.inject({ url: '/console' })).headers.location).toBe('/console/');
  });

  it('sends the gzip copy to clients that take gzip, the plain file to others', async () => {
    const a = app({ dir });
    const gz = await a.inject({ url: '/console/assets/a.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toMatch(/^text\/javascript/);
    expect(gz.headers['cache-control']).toContain('immutable');
    const plain = await a.inject({ url: '/console/assets/a.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe('console.log(1)');
    const css = await a.inject({ url: '/console/assets/b.css', headers: { 'accept-encoding': 'gzip' } });
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('answers 404 for missing assets and for names that would leave the directory', async () => {
    const a = app({ dir });
    for (const url of ['/console/assets/none.js', '/console/assets/..%2Findex.html', '/console/assets/.hidden', '/console/assets/x/y.js']) {
      expect((await a.inject({ url })).statusCode, url).toBe(404);
    }
  });

  it('says how to build the console when it is not built', async () => {
    const r = await app({ dir: join(dir, 'nothing') }).inject({ url: '/' });
    expect(r.statusCode).toBe(404);
    expect(r.body).toMatch(/npm run build/);
  });
});
