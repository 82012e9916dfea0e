/** Errors a registry (or the way to it) answered with, carrying the registry's own reason. */
import type { HttpResponse } from './http-transport.js';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A registry, token server or connection failure; `message` is the reason shown to the user. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    /** The HTTP status, when the registry answered. */
    readonly status?: number,
    /** The distribution error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`, …), when it sent one. */
    readonly code?: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * The reason in an error answer: distribution's `{"errors":[{"code","message","detail"}]}` as
 * `CODE: message`, else the body's first line of text. Consumes the body.
 */
export async function readErrorBody(res: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_ERROR_BODY_BYTES) break;
      chunks.push(chunk);
    }
  } catch {
    // The reason is best effort; the status is reported either way.
  }
  return describeErrorBody(Buffer.concat(chunks).toString('utf8'));
}

/** Pure part of {@link readErrorBody}. */
export function describeErrorBody(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown> & { errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      return json.errors
        .map((e) => [typeof e.code === 'string' ? e.code : undefined, typeof e.message === 'string' ? e.message : undefined].filter(Boolean).join(': '))
        .filter(Boolean)
        .join('; ');
    }
    // Token servers answer in their own shapes: Docker Hub `details`, OAuth2 `error_description`/`error`.
    for (const key of ['details', 'message', 'error_description', 'error']) {
      if (typeof json[key] === 'string' && json[key] !== '') return json[key];
    }
  } catch {
    // not JSON: fall through to text
  }
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
