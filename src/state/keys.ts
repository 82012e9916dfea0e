/**
 * Where each kind of record lives in the Store. Keys sort bytewise, so names are placed to make the
 * listings ECS needs a single prefix range in the right order.
 */

/** Revisions are zero-padded so that key order is numeric order. */
const pad = (n: number) => String(n).padStart(10, '0');

export const keys = {
  cluster: (name: string) => `clusters/${name}`,
  clusters: () => 'clusters/',

  /**
   * `#` sorts before every character allowed in a family name, so all revisions of `web` come before
   * those of `web-api`: listing `taskdefs/` yields family order, then revision order.
   */
  taskDefinition: (family: string, revision: number) => `taskdefs/${family}#${pad(revision)}`,
  taskDefinitionsOf: (family: string) => `taskdefs/${family}#`,
  taskDefinitions: () => 'taskdefs/',
  /** Revisions awaiting deletion (DELETE_IN_PROGRESS), so the reaper never scans every revision. */
  taskDefinitionDeletion: (family: string, revision: number) => `taskdef-deletions/${family}#${pad(revision)}`,
  taskDefinitionDeletions: () => 'taskdef-deletions/',
  taskDefinitionFamily: (family: string) => `taskdef-families/${family}`,
  taskDefinitionFamilies: () => 'taskdef-families/',

  accountSetting: (principalArn: string, name: string) => `account-settings/${principalArn}/${name}`,
  accountSettingsOf: (principalArn: string) => `account-settings/${principalArn}/`,

  /**
   * The registry. Repository names never contain `@` or `:`, so `<repo>@` and `<repo>:` prefixes select one
   * repository's records exactly (`a@` is not a prefix of `a/b@` or `a.b@`), and tags list in tag order.
   */
  repository: (name: string) => `registry/repos/${name}`,
  repositories: () => 'registry/repos/',
  /** One pushed manifest (an "image" in ECR's words) in a repository. */
  manifest: (repo: string, digest: string) => `registry/manifests/${repo}@${digest}`,
  manifestsOf: (repo: string) => `registry/manifests/${repo}@`,
  manifests: () => 'registry/manifests/',
  tag: (repo: string, tag: string) => `registry/tags/${repo}:${tag}`,
  tagsOf: (repo: string) => `registry/tags/${repo}:`,
  /** A blob made available in a repository by an upload or a mount. */
  blobLink: (repo: string, digest: string) => `registry/links/${repo}@${digest}`,
  blobLinksOf: (repo: string) => `registry/links/${repo}@`,
  blobLinks: () => 'registry/links/',
  /** A blob's bytes exist under the registry directory (and whether garbage collection has condemned it). */
  blob: (digest: string) => `registry/blobs/${digest}`,
  blobs: () => 'registry/blobs/',
  /** Manifests whose `subject` is `subject`, for the referrers API. */
  referrer: (repo: string, subject: string, digest: string) => `registry/referrers/${repo}@${subject}@${digest}`,
  referrersOf: (repo: string, subject: string) => `registry/referrers/${repo}@${subject}@`,
  referrersIn: (repo: string) => `registry/referrers/${repo}@`,
  lifecyclePolicy: (repo: string) => `registry/lifecycle/${repo}`,
  lifecyclePolicies: () => 'registry/lifecycle/',
  lifecyclePreview: (repo: string) => `registry/lifecycle-previews/${repo}`,
  /** An OCI blob upload session in progress (any replica may take its next request). */
  upload: (id: string) => `registry/uploads/${id}`,
  uploads: () => 'registry/uploads/',
  /** The secret that signs registry login tokens, shared by every server on the store. */
  registryTokenSecret: () => 'registry/token-secret',

  containerInstance: (cluster: string, id: string) => `instances/${cluster}/${id}`,
  containerInstancesOf: (cluster: string) => `instances/${cluster}/`,
  containerInstances: () => 'instances/',
  task: (cluster: string, id: string) => `tasks/${cluster}/${id}`,
  /** RunTask's idempotency tokens, per cluster (as ECS scopes them). */
  runTaskToken: (cluster: string, token: string) => `runtask-tokens/${cluster}/${token}`,
  runTaskTokens: () => 'runtask-tokens/',
  tasksOf: (cluster: string) => `tasks/${cluster}/`,
  tasks: () => 'tasks/',
  service: (cluster: string, name: string) => `services/${cluster}/${name}`,
  servicesOf: (cluster: string) => `services/${cluster}/`,
  services: () => 'services/',
  /** A service's deployment history (DescribeServiceDeployments), one record per deployment `ecs-svc/<id>`. */
  serviceDeployment: (cluster: string, service: string, id: string) => `service-deployments/${cluster}/${service}/${id}`,
  serviceDeploymentsOf: (cluster: string, service: string) => `service-deployments/${cluster}/${service}/`,

  /**
   * Secrets Manager. A secret's name never contains `#` (its alphabet is letters, digits and `/_+=.@-`), so
   * `<name>#` selects one secret's versions exactly. Values live apart from the secret's record so that
   * DescribeSecret and ListSecrets never read (or open) one.
   */
  secret: (name: string) => `secrets/items/${name}`,
  secrets: () => 'secrets/items/',
  /** One version's sealed value; the key is the sealing context. */
  secretValue: (name: string, versionId: string) => `secrets/values/${name}#${versionId}`,
  secretValuesOf: (name: string) => `secrets/values/${name}#`,
  /** Secrets scheduled for deletion (DeleteSecret with a recovery window), so the purge never scans every secret. */
  secretDeletion: (name: string) => `secrets/deletions/${name}`,
  secretDeletions: () => 'secrets/deletions/',

  /**
   * SSM Parameter Store. Parameter names never contain `#` (letters, digits and `_.-/`), so `<name>#` selects
   * one parameter's versions exactly, in version order.
   */
  parameter: (name: string) => `parameters/items/${name}`,
  parameters: () => 'parameters/items/',
  parameterVersion: (name: string, version: number) => `parameters/versions/${name}#${pad(version)}`,
  parameterVersionsOf: (name: string) => `parameters/versions/${name}#`,

  /**
   * An agent session open on some replica, attached to that replica's lease: it vanishes when the session
   * closes or the replica dies (its lease expires). The leader's instance monitor turns these into the
   * instance records' `agentConnected`.
   */
  presence: (cluster: string, instanceId: string) => `presence/${cluster}/${instanceId}`,
  /** ECS Exec sessions ExecuteCommand granted and no client has opened yet (one use each; api/exec/). */
  execSession: (sessionId: string) => `exec-sessions/${sessionId}`,
  execSessions: () => 'exec-sessions/',
  presences: () => 'presence/',
} as const;
