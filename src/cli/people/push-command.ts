import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { contextOf, explain, peopleCommand, type PeopleContext } from './common.js';
import { liveLine, type LineStream } from './live-line.js';
import type { ImageSource } from './push-source.js';
import { parseTarget, targetFromSource, type PushTarget } from './push-target.js';
import type { RegistryEndpoint } from './push-upload.js';
import { bytes, json, paint, wantColour } from './render.js';
import { sdkConfig } from './settings.js';
import { bar } from './rollout.js';

interface PushFlags {
  endpoint?: string;
  region?: string;
  output: 'table' | 'json';
}

interface PushedBlob {
  readonly digest: string;
  readonly size: number;
  readonly role: string;
  readonly pushed: boolean;
  /** The repository it was mounted from (no bytes sent). */
  readonly mountedFrom?: string;
}

/** Other repositories a missing blob is looked for in (and mounted from): the first this many of the account. */
const MOUNT_CANDIDATES = 10;

/** `dir:tag` picks an image in a layout holding several; a path that exists as typed is taken whole. */
export function splitSource(text: string, exists: (path: string) => boolean): { path: string; tag?: string } {
  if (exists(text)) return { path: text };
  const colon = text.lastIndexOf(':');
  if (colon > 0 && colon > text.lastIndexOf('/')) return { path: text.slice(0, colon), tag: text.slice(colon + 1) };
  return { path: text };
}

/** `berth push SOURCE [REPO:TAG]`: an OCI layout or a `docker save` archive into berth's registry. */
export function pushCommand(): Command {
  return peopleCommand('push', "push an image to berth's registry: an OCI image layout directory (DIR or DIR:TAG) or a `docker save` archive")
    .argument('<source>', 'an OCI image layout directory (DIR:TAG picks one of several images) or a tar archive (`docker save`, or an OCI layout tarred)')
    .argument('[target]', "REPO[:TAG] in berth's registry (default: the name the source was saved with; tag latest); the repository is created if missing")
    .addHelpText('after', '\nThen run it: the image is <registry host>/REPO:TAG, as `berth push` prints it (e.g. `berth deploy web --image 127.0.0.1:7400/web:v2`).')
    .action(async (source: string, target: string | undefined, flags: PushFlags) => {
      const ctx = contextOf(flags);
      const { path, tag } = splitSource(source, existsSync);
      // Loaded when push runs: main.ts imports every command's module (docs/agent.md, Footprint).
      const { openImageSource } = await import('./push-source.js');
      const image = await openImageSource(path, tag);
      try {
        const to = target !== undefined ? parseTarget(target, 'the target') : targetFromSource(image.name, path);
        const result = await push(ctx, image, to);
        ctx.out(ctx.output === 'json' ? json(result) : `${ctx.paint('green', '✓')} pushed ${result.imageUri} (${result.digest})\n`);
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        image.close();
      }
    });
}

async function push(ctx: PeopleContext, image: ImageSource, to: PushTarget) {
  const ecrSdk = await import('@aws-sdk/client-ecr');
  const { blobExists, mountBlob, putManifest, uploadBlob } = await import('./push-upload.js');
  const { withRetries } = await import('./push-retry.js');
  const { sleep } = await import('./durations.js');
  const ecr = new ecrSdk.ECRClient(sdkConfig(ctx.settings));
  const stream: LineStream = ctx.output === 'json' ? process.stderr : process.stdout;
  const p = paint(wantColour(stream, process.env));
  const line = liveLine(stream);
  try {
    let repositoryUri: string | undefined;
    try {
      repositoryUri = (await ecr.send(new ecrSdk.DescribeRepositoriesCommand({ repositoryNames: [to.repository] }))).repositories?.[0]?.repositoryUri;
    } catch (error) {
      if ((error as { name?: string }).name !== 'RepositoryNotFoundException') throw error;
      repositoryUri = (await ecr.send(new ecrSdk.CreateRepositoryCommand({ repositoryName: to.repository }))).repository?.repositoryUri;
      line.note(`created repository ${to.repository}`);
    }
    const auth = (await ecr.send(new ecrSdk.GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    const reg: RegistryEndpoint = { base: auth?.proxyEndpoint ?? ctx.settings.endpoint, authorization: `Basic ${auth?.authorizationToken ?? ''}` };
    const others = ((await ecr.send(new ecrSdk.DescribeRepositoriesCommand({ maxResults: MOUNT_CANDIDATES }))).repositories ?? [])
      .map((r) => r.repositoryName!)
      .filter((name) => name !== to.repository);
    /** One blob's bytes, with a bar redrawn as they go. */
    const upload = async (blob: ImageSource['blobs'][number], label: string): Promise<void> => {
      const startedAt = ctx.now();
      let drawnAt = 0;
      const draw = (sent: number) => {
        if (sent < blob.size && ctx.now() - drawnAt < 100) return;
        drawnAt = ctx.now();
        line.update(`${label} ${bar({ desired: blob.size, running: sent, pending: 0 }, p)} ${bytes(sent)}/${bytes(blob.size)}`, `${label}: uploading ${bytes(blob.size)}`);
      };
      draw(0);
      await uploadBlob(reg, to.repository, blob, draw);
      line.finish(`${label}: pushed ${bytes(blob.size)} in ${((ctx.now() - startedAt) / 1000).toFixed(1)}s`);
    };
    const blobs: PushedBlob[] = [];
    for (const blob of image.blobs) {
      const label = `${blob.role} ${blob.digest.slice(7, 19)}`;
      // Each try looks first: a blob already there (or that landed although its answer was lost) is not sent again.
      const outcome = await withRetries(
        async (n): Promise<PushedBlob> => {
          const unsent = { digest: blob.digest, size: blob.size, role: blob.role, pushed: false };
          if (await blobExists(reg, to.repository, blob.digest)) {
            line.note(`${label}: ${n === 1 ? 'already there' : 'there now'} (${bytes(blob.size)})`);
            return unsent;
          }
          const mountedFrom = await mountBlob(reg, to.repository, blob.digest, others);
          if (mountedFrom) {
            line.note(`${label}: mounted from ${mountedFrom} (${bytes(blob.size)}, nothing sent)`);
            return { ...unsent, mountedFrom };
          }
          await upload(blob, label);
          return { ...unsent, pushed: true };
        },
        (error, n, delayMs) => line.note(`${label}: ${(error as Error).message}; trying again in ${(delayMs / 1000).toFixed(1)}s (try ${n + 1})`),
        sleep,
      );
      blobs.push(outcome);
    }
    let digest = '';
    for (const [i, manifest] of image.manifests.entries()) {
      const last = i === image.manifests.length - 1;
      digest = await putManifest(reg, to.repository, last ? to.tag : manifest.digest, manifest);
    }
    const host = repositoryUri?.slice(0, repositoryUri.length - to.repository.length - 1) ?? new URL(reg.base).host;
    return { repository: to.repository, tag: to.tag, imageUri: `${host}/${to.repository}:${to.tag}`, digest, blobs };
  } finally {
    ecr.destroy();
  }
}
