import type { ArnScope } from '../arn.js';

/**
 * An ECR repository's ARN, `arn:aws:ecr:<region>:<registry id>:repository/<name>`: what ECR answers as
 * `repositoryArn` and what IAM policies name for the ECR API and for registry pulls and pushes alike. A request's
 * `registryId` is the account the repository lives in (berth has one: the scope's, when none is given).
 */
export const repositoryArnOf = (scope: ArnScope, name: string, registryId?: string): string =>
  `arn:aws:ecr:${scope.region}:${registryId ?? scope.accountId}:repository/${name}`;
