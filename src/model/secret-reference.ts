/**
 * A container's `secrets[].valueFrom` (and `logConfiguration.secretOptions[].valueFrom`), as ECS reads it:
 *
 *   arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>[:<json-key>:<version-stage>:<version-id>]
 *   arn:aws:ssm:<region>:<account>:parameter/<name>          (a parameter by ARN)
 *   <name> or /<path>/<name>                                  (a parameter of the task's region)
 *
 * Empty json-key, version-stage and version-id mean the whole value, AWSCURRENT and no particular version.
 * Pure.
 */
export type SecretReference =
  | { readonly kind: 'secretsmanager'; readonly secretId: string; readonly jsonKey?: string; readonly versionStage?: string; readonly versionId?: string }
  | { readonly kind: 'ssm'; readonly name: string };

export function parseSecretReference(valueFrom: string): SecretReference | undefined {
  if (valueFrom.startsWith('arn:')) {
    const parts = valueFrom.split(':');
    const [, , service] = parts;
    if (service === 'secretsmanager') {
      // arn aws secretsmanager region account secret name [json-key version-stage version-id]
      if (parts.length !== 7 && parts.length !== 10) return undefined;
      if (parts[5] !== 'secret' || !parts[6]) return undefined;
      const secretId = parts.slice(0, 7).join(':');
      const [jsonKey, versionStage, versionId] = parts.slice(7);
      return {
        kind: 'secretsmanager',
        secretId,
        ...(jsonKey ? { jsonKey } : {}),
        ...(versionStage ? { versionStage } : {}),
        ...(versionId ? { versionId } : {}),
      };
    }
    if (service === 'ssm') {
      const resource = parts.slice(5).join(':');
      if (parts.length < 6 || !resource.startsWith('parameter/') || resource === 'parameter/') return undefined;
      const path = resource.slice('parameter'.length);
      // parameter/name names `name`; parameter/a/b names `/a/b` (a hierarchy keeps its leading slash).
      return { kind: 'ssm', name: path.indexOf('/', 1) === -1 ? path.slice(1) : path };
    }
    return undefined;
  }
  return valueFrom ? { kind: 'ssm', name: valueFrom } : undefined;
}
