import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciImageService } from '../../src/image/oci-image-service.js';
import { buildBusyboxImage, type BuiltImage } from '../../src/testing/busybox-image.js';
import { AWS_CLI, awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { hasPodman, isolatedPodman, type Podman } from './support/podman.js';
import { skopeo } from './support/skopeo.js';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe.runIf(hasAwsCli)('the registry with real clients: AWS CLI v2, skopeo, podman', () => {
  let dir: string;
  let server: BerthServerProcess;
  let host: string;
  let password: string;
  let image: BuiltImage;
  let other: BuiltImage;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);

  beforeAll(async () => {
    dir = join(tmpdir(), `berth-e2e-registry-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    server = await startBerthServer(join(dir, 'data'));
    host = new URL(server.url).host;
    image = await buildBusyboxImage(join(dir, 'image'), 'v1', { cmd: ['httpd', '-f'], extraLayer: { 'etc/motd': 'hello\n' } });
    // podman names an image pulled from an OCI layout after its path: `dir` is all lowercase for that.
    other = await buildBusyboxImage(join(dir, 'other'), 'v1', { cmd: ['sleep', '3600'] });
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates repositories with the CLI, with URIs on this server', async () => {
    const created = await aws('ecr', 'create-repository', '--repository-name', 'team/web', '--image-scanning-configuration', 'scanOnPush=true');
    expect(created.code).toBe(0);
    expect(created.json.repository).toMatchObject({ repositoryName: 'team/web', repositoryUri: `${host}/team/web`, imageScanningConfiguration: { scanOnPush: true } });
    expect(server.stderr()).toContain(`container registry at ${host}`);
    expect((await aws('ecr', 'create-repository', '--repository-name', 'team/frozen', '--image-tag-mutability', 'IMMUTABLE')).code).toBe(0);
    const dup = await aws('ecr', 'create-repository', '--repository-name', 'team/web');
    expect(dup.code).toBe(254);
    expect(dup.stderr).toContain('(RepositoryAlreadyExistsException)');
    const password$ = await aws('ecr', 'get-login-password');
    expect(password$.code).toBe(0);
    password = password$.stdout.trim();
  });

  it('copies an image in and out with skopeo, digests unchanged', async () => {
    const push = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${password}`, `oci:${image.layoutDir}:v1`, `docker://${host}/team/web:v1`]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `AWS:${password}`, `docker://${host}/team/web:v1`]);
    expect(sha256(raw.stdout)).toBe(image.manifestDigest);
    const out = join(dir, 'copied');
    const pull = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', `AWS:${password}`, `docker://${host}/team/web:v1`, `oci:${out}:v1`]);
    expect(pull.code).toBe(0);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(image.manifestDigest);
    for (const layer of image.layerDigests) expect(readFileSync(join(out, 'blobs/sha256', layer.slice(7))).length).toBeGreaterThan(0);

    const described = await aws('ecr', 'describe-images', '--repository-name', 'team/web');
    expect(described.json.imageDetails).toEqual([
      expect.objectContaining({ imageDigest: image.manifestDigest, imageTags: ['v1'], imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }),
    ]);
    expect(described.json.imageDetails[0].imageSizeInBytes).toBeGreaterThan(100_000);
  });

  it("is pulled by berth's own image service with the ECR token", async () => {
    const images = new OciImageService({ root: join(dir, 'agent-images') });
    const pulled = await images.pull(`${host}/team/web:v1`, { auth: async () => ({ username: 'AWS', password }) });
    expect(pulled.manifestDigest).toBe(image.manifestDigest);
    expect(pulled.id).toBe(image.configDigest);
    expect(pulled.config.Cmd).toEqual(['httpd', '-f']);
    const refused = await images.pull(`${host}/team/web:v1`, { auth: async () => ({ username: 'AWS', password: 'wrong' }) }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
  });

  it('refuses a push without credentials or with a wrong password', async () => {
    const anonymous = await skopeo(['copy', '--dest-tls-verify=false', `oci:${other.layoutDir}:v1`, `docker://${host}/team/web:anon`]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/authentication required|unauthorized/i);
    const wrong = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'AWS:not-a-token', `oci:${other.layoutDir}:v1`, `docker://${host}/team/web:anon`]);
    expect(wrong.code).not.toBe(0);
    expect((await aws('ecr', 'list-images', '--repository-name', 'team/web')).json.imageIds).toHaveLength(1);
  });

  it('keeps immutable tags where they are', async () => {
    const first = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${password}`, `oci:${image.layoutDir}:v1`, `docker://${host}/team/frozen:prod`]);
    expect(first.code).toBe(0);
    const moved = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${password}`, `oci:${other.layoutDir}:v1`, `docker://${host}/team/frozen:prod`]);
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toMatch(/tag invalid|cannot be overwritten/i);
    const batch = await aws('ecr', 'batch-get-image', '--repository-name', 'team/frozen', '--image-ids', 'imageTag=prod');
    expect(batch.json.images[0].imageId.imageDigest).toBe(image.manifestDigest);
  });

  it.runIf(hasPodman)('logs in with `aws ecr get-login-password | podman login`, pushes and pulls', async () => {
    const podman: Podman = isolatedPodman();
    try {
      const login = await podman.shell(`${AWS_CLI} ecr get-login-password --endpoint-url ${server.url} | $PODMAN login --tls-verify=false --username AWS --password-stdin ${host}`, {
        AWS_SHARED_CREDENTIALS_FILE: server.credentialsFile,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_PROFILE: 'berth',
        AWS_DEFAULT_REGION: 'us-east-1',
      });
      expect(login.stderr).toBe('');
      expect(login.stdout).toContain('Login Succeeded');
      const bad = await podman.run(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], 'wrong\n');
      expect(bad.code).not.toBe(0);

      const local = await podman.run(['pull', '-q', `oci:${other.layoutDir}:v1`]);
      expect(local.code, local.stderr).toBe(0);
      const id = (await podman.run(['images', '-q'])).stdout.trim().split('\n')[0]!;
      expect((await podman.run(['tag', id, `${host}/team/web:from-podman`])).code).toBe(0);
      const push = await podman.run(['push', '--tls-verify=false', `${host}/team/web:from-podman`]);
      expect(push.code, push.stderr).toBe(0);
      expect((await podman.run(['rmi', '-a', '-f'])).code).toBe(0);

      const pull = await podman.run(['pull', '--tls-verify=false', `${host}/team/web:from-podman`]);
      expect(pull.code, pull.stderr).toBe(0);
      const listed = await podman.run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
      const [name, digest] = listed.stdout.trim().split(' ');
      expect(name).toBe(`${host}/team/web:from-podman`);
      const ids = await aws('ecr', 'list-images', '--repository-name', 'team/web', '--filter', 'tagStatus=TAGGED');
      expect(ids.json.imageIds).toContainEqual({ imageDigest: digest, imageTag: 'from-podman' });
    } finally {
      await podman.cleanup();
    }
  });

  it('runs the lifecycle and deletion actions from the CLI', async () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] }),
    );
    expect((await aws('ecr', 'put-lifecycle-policy', '--repository-name', 'team/web', '--lifecycle-policy-text', `file://${policy}`)).code).toBe(0);
    const started = await aws('ecr', 'start-lifecycle-policy-preview', '--repository-name', 'team/web');
    expect(started.json.status).toBe('COMPLETE');
    const preview = await aws('ecr', 'get-lifecycle-policy-preview', '--repository-name', 'team/web');
    expect(preview.json.summary.expiringImageTotalCount).toBe(1);
    expect(preview.json.previewResults[0].action).toEqual({ type: 'EXPIRE' });

    const deleted = await aws('ecr', 'batch-delete-image', '--repository-name', 'team/web', '--image-ids', 'imageTag=v1');
    expect(deleted.json.imageIds).toEqual([{ imageDigest: image.manifestDigest, imageTag: 'v1' }]);
    const notEmpty = await aws('ecr', 'delete-repository', '--repository-name', 'team/web');
    expect(notEmpty.stderr).toContain('(RepositoryNotEmptyException)');
    expect((await aws('ecr', 'delete-repository', '--repository-name', 'team/web', '--force')).code).toBe(0);
    const gone = await aws('ecr', 'describe-repositories', '--repository-names', 'team/web');
    expect(gone.stderr).toContain('(RepositoryNotFoundException)');
  });
});

describe('the registry on its own listener', () => {
  let dir: string;
  let server: BerthServerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-registry-listen-'));
    server = await startBerthServer(join(dir, 'data'), ['--registry-listen', '127.0.0.1:0', '--registry-host', 'registry.example:5000']);
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /v2/ there (not on the API port) and names repositories by --registry-host', async () => {
    const m = /container registry at (\S+)/.exec(server.stderr());
    expect(m?.[1]).toBe('registry.example:5000');
    expect((await fetch(`${server.url}/v2/`)).status).toBe(404);
    const created = await awsCli(server.url, server.credentialsFile, ['ecr', 'create-repository', '--repository-name', 'elsewhere']);
    expect(created.json.repository.repositoryUri).toBe('registry.example:5000/elsewhere');
    const login = await awsCli(server.url, server.credentialsFile, ['ecr', 'get-authorization-token']);
    expect(login.json.authorizationData[0].proxyEndpoint).toBe('http://registry.example:5000');
  });
});
