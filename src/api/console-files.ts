import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console's files (docs/console.md), served on the API's listener:
 *
 *   GET /                       the console's page
 *   GET /console/assets/<name>  its built scripts and styles (content-hashed names, cached for a year)
 *   GET /console/<anything>     the console's page again: its own router reads the path (shareable URLs)
 *
 * Nothing here answers a question about berth's state: the page signs in with an access key pair and calls the same
 * SigV4-signed APIs every other client calls. The AWS APIs are POSTs (and the registry lives under /v2/), so these
 * GET routes collide with none of them.
 */
export interface ConsoleFilesOptions {
  /** The built console (`dist/console`, written by `npm run build`); by default beside this module's build. */
  readonly dir?: string;
  /** Written into the page so the sign-in form starts with the region clients must sign for. */
  readonly region: string;
}

const DEFAULT_DIR = fileURLToPath(new URL('../console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/**
 * Scripts from this origin only; the page talks to this origin only (its APIs, and ECS Exec's stream: 'self' covers
 * ws: to the same host). Styles from this origin, and `<style>` elements too: xterm.js (the exec terminal) writes its
 * cell sizes and colours into style elements it creates, which a stricter policy blocks (the terminal then draws
 * without them). Style attributes in markup stay refused; scripts are untouched.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-elem 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A built asset's name: hashed file names vite writes, nothing that could climb out of the directory. */
const ASSET_NAME = /^[A-Za-z0-9_.-]+$/;

export function registerConsoleFiles(app: FastifyInstance, options: ConsoleFilesOptions): void {
  const dir = options.dir ?? DEFAULT_DIR;
  const indexPath = join(dir, 'index.html');
  const page = existsSync(indexPath) ? readFileSync(indexPath, 'utf8').replaceAll('%BERTH_REGION%', escapeAttribute(options.region)) : undefined;

  const sendPage = (_request: FastifyRequest, reply: FastifyReply) => {
    if (page === undefined) {
      return reply.code(404).type('text/plain; charset=utf-8').send('The berth console is not built here: `npm run build` builds it into dist/console.\n');
    }
    return reply.header('content-security-policy', CSP).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(page);
  };

  app.get('/', sendPage);
  app.get('/console', (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console/*', async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    if (!rest.startsWith('assets/')) return sendPage(request, reply);
    const name = rest.slice('assets/'.length).split('?')[0]!;
    if (!ASSET_NAME.test(name) || name.startsWith('.')) return reply.code(404).type('text/plain').send('Not found.\n');
    const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    const path = join(dir, 'assets', name);
    // The build writes a .gz beside each script and style; sent as it is to clients that take gzip.
    const body = (gzip ? await readFile(`${path}.gz`).catch(() => undefined) : undefined) ?? (await readFile(path).catch(() => undefined));
    if (body === undefined) return reply.code(404).type('text/plain').send('Not found.\n');
    const compressed = gzip && body[0] === 0x1f && body[1] === 0x8b;
    if (compressed) reply.header('content-encoding', 'gzip');
    return reply
      .header('vary', 'accept-encoding')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .type(type)
      .send(body);
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}
