// Builds the web console (console/, docs/console.md) into dist/console with vite, writes a gzip copy beside each
// script and style (berth server sends those to browsers that accept gzip), and prints the sizes: the initial
// JavaScript (the entry, the clusters page that / opens, and what they import statically, the SDK's ECS client
// among them) must stay within 300 kB gzip. test/e2e/console.test.ts measures the same as the browser receives it.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist/console');
export const INITIAL_JS_LIMIT = 300 * 1024;

rmSync(outDir, { recursive: true, force: true });
await build({
  root: join(root, 'console'),
  base: '/console/',
  configFile: false,
  logLevel: 'warn',
  // The page's only JSX is Preact's.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    manifest: true,
    // No inline polyfill script: the page's CSP allows scripts from the origin only (browsers since 2023 preload modules).
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
});

const assets = join(outDir, 'assets');
const sizes = {};
for (const name of readdirSync(assets)) {
  if (!/\.(js|css)$/.test(name)) continue;
  const gz = gzipSync(readFileSync(join(assets, name)), { level: 9 });
  writeFileSync(join(assets, `${name}.gz`), gz);
  sizes[name] = gz.length;
}
const manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8'));
const entry = Object.values(manifest).find((m) => m.isEntry);
const initial = new Set();
const visit = (key) => {
  const m = manifest[key];
  if (!m || initial.has(m.file)) return;
  initial.add(m.file);
  for (const i of m.imports ?? []) visit(i);
};
visit(Object.keys(manifest).find((k) => manifest[k] === entry));
visit('src/pages/clusters.tsx');
const initialGzip = [...initial].reduce((n, f) => n + (sizes[f.replace(/^assets\//, '')] ?? 0), 0);
const allGzip = Object.entries(sizes).filter(([n]) => n.endsWith('.js')).reduce((n, [, s]) => n + s, 0);
console.log(`console: initial JavaScript ${(initialGzip / 1024).toFixed(1)} kB gzip (${initial.size} files: the entry and the clusters page), all JavaScript ${(allGzip / 1024).toFixed(1)} kB gzip`);
if (initialGzip > INITIAL_JS_LIMIT) {
  console.error(`console: the initial JavaScript (${initialGzip} bytes gzip) is over the ${INITIAL_JS_LIMIT}-byte limit`);
  process.exit(1);
}
