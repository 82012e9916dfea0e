/**
 * The IAM actions of the OCI distribution API, as ECR authorizes a registry client's calls (ECR User Guide,
 * "Private repository policies" and the AmazonEC2ContainerRegistryReadOnly/PowerUser policies): pulling a
 * manifest is ecr:BatchGetImage, a layer ecr:GetDownloadUrlForLayer, checking a layer ecr:BatchCheckLayerAvailability;
 * pushing is ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and ecr:PutImage; all on the
 * repository's ARN. The base endpoint (`/v2/`) only needs a valid token; the catalog lists every repository.
 */
import type { ActionDeclaration } from '../../api/authz/declarations.js';
import { repositoryArnOf } from '../../model/registry/repository-arn.js';
import type { RegistryRoute } from './paths.js';

export interface RegistryAction {
  readonly action: string;
  /** The repository acted on; absent for the catalog (`*`). */
  readonly name?: string;
}

const byRoute: { readonly [K in RegistryRoute['kind']]?: Readonly<Record<string, string>> } = {
  manifest: { GET: 'ecr:BatchGetImage', HEAD: 'ecr:BatchGetImage', PUT: 'ecr:PutImage', DELETE: 'ecr:BatchDeleteImage' },
  blob: { GET: 'ecr:GetDownloadUrlForLayer', HEAD: 'ecr:BatchCheckLayerAvailability', DELETE: 'ecr:BatchDeleteImage' },
  uploads: { POST: 'ecr:InitiateLayerUpload' },
  upload: { GET: 'ecr:UploadLayerPart', PATCH: 'ecr:UploadLayerPart', PUT: 'ecr:CompleteLayerUpload', DELETE: 'ecr:UploadLayerPart' },
  tags: { GET: 'ecr:ListImages' },
  referrers: { GET: 'ecr:BatchGetImage' },
  catalog: { GET: 'ecr:DescribeRepositories' },
};

/** The action a registry request performs; undefined for the base endpoint and for methods a route does not serve. */
export function registryActionOf(method: string, route: RegistryRoute): RegistryAction | undefined {
  const methods = byRoute[route.kind];
  const action = methods && Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (action === undefined) return undefined;
  return 'name' in route ? { action, name: route.name } : { action };
}

const declarations = new Map<string, ActionDeclaration<RegistryAction>>();

/** The declaration the authorization step evaluates for a registry action (one per action, made once). */
export function registryDeclaration(action: string): ActionDeclaration<RegistryAction> {
  let declaration = declarations.get(action);
  if (!declaration) {
    declaration = { action, resources: (input, scope) => (input.name === undefined ? [] : [repositoryArnOf(scope, input.name)]) };
    declarations.set(action, declaration);
  }
  return declaration;
}
