/**
 * The OCI distribution calls `berth push` makes to berth's registry: is a blob there (HEAD), mount it from another
 * repository that has it (POST with `mount` and `from`), upload it (POST an upload, PUT its bytes with the digest,
 * streamed from the file), put a manifest. Authenticated as ECR clients are: HTTP Basic `AWS:<password>` from
 * GetAuthorizationToken. An answer that may pass (408, 429, 5xx) is a RetryableRegistryError (push-retry.ts).
 */
import { createReadStream } from 'node:fs';
import type { SourceBlob, SourceManifest } from './push-source.js';
import { isRetryableStatus, RetryableRegistryError } from './push-retry.js';
import { CliUsageError } from './settings.js';

export interface RegistryEndpoint {
  /** `http://host:port`, GetAuthorizationToken's proxyEndpoint. */
  readonly base: string;
  /** `Basic base64(AWS:password)`. */
  readonly authorization: string;
}

/** The registry's refusal as a sentence: its OCI error code and message. */
async function refusal(what: string, res: Response): Promise<Error> {
  const text = await res.text();
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (body.errors?.length) detail = body.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch {
    // not JSON: the text as it is
  }
  const hint = res.status === 401 || res.status === 403 ? ' (are the credentials allowed ecr:InitiateLayerUpload/PutImage on this repository?)' : '';
  const sentence = `the registry refused ${what}: ${res.status} ${detail}${hint}`;
  return isRetryableStatus(res.status) ? new RetryableRegistryError(sentence) : new CliUsageError(sentence);
}

function call(reg: RegistryEndpoint, path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
  return fetch(new URL(path, reg.base), { ...init, headers: { authorization: reg.authorization, ...(init.headers as Record<string, string>) }, redirect: 'manual' });
}

export async function blobExists(reg: RegistryEndpoint, repo: string, digest: string): Promise<boolean> {
  const res = await call(reg, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await refusal(`a look at blob ${digest}`, res);
}

/**
 * Mount the blob into `repo` from one of `from` (repositories of the account, tried in order) that has it, as the
 * OCI distribution specification's cross-repository mount: no bytes sent. The repository it came from, or
 * undefined when none has it.
 */
export async function mountBlob(reg: RegistryEndpoint, repo: string, digest: string, from: readonly string[]): Promise<string | undefined> {
  for (const other of from) {
    if (other === repo || !(await blobExists(reg, other, digest))) continue;
    const res = await call(reg, `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(other)}`, { method: 'POST' });
    if (res.status === 201) return other;
    // 202: the registry opened an ordinary upload instead; it is left to expire (the blob is uploaded anew).
    if (res.status !== 202) throw await refusal(`a mount of blob ${digest} from ${other}`, res);
  }
  return undefined;
}

/** Upload `blob` in one streamed PUT; `progress` hears the bytes sent so far. */
export async function uploadBlob(reg: RegistryEndpoint, repo: string, blob: SourceBlob, progress: (sent: number) => void): Promise<void> {
  const started = await call(reg, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (started.status !== 202) throw await refusal(`an upload to ${repo}`, started);
  const location = new URL(started.headers.get('location') ?? '', reg.base);
  location.searchParams.set('digest', blob.digest);
  async function* body() {
    let sent = 0;
    for await (const chunk of createReadStream(blob.path, { highWaterMark: 1 << 20 })) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
      progress(sent);
    }
  }
  const done = await call(reg, location.pathname + location.search, {
    method: 'PUT',
    body: body() as unknown as RequestInit['body'],
    duplex: 'half',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
  });
  if (done.status !== 201) throw await refusal(`blob ${blob.digest}`, done);
}

export async function putManifest(reg: RegistryEndpoint, repo: string, reference: string, manifest: SourceManifest): Promise<string> {
  const res = await call(reg, `/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: manifest.bytes, headers: { 'content-type': manifest.mediaType } });
  if (res.status !== 201) throw await refusal(`manifest ${manifest.digest} as ${repo}:${reference}`, res);
  return res.headers.get('docker-content-digest') ?? manifest.digest;
}
