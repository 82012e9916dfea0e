import { ServiceError } from '../model/errors.js';

const NAME_RULES =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

/** SSM Parameter Store's wording for the errors its operations share. Never a parameter's value in any of them. */
export const parameterErrors = {
  validation: (message: string) => new ServiceError('ValidationException', message),
  badName: () => new ServiceError('ValidationException', NAME_RULES),
  notQualified: () => new ServiceError('ValidationException', 'Parameter name must be a fully qualified name.'),
  tooDeep: () =>
    new ServiceError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels. For more information, see https://docs.aws.amazon.com/console/systems-manager/parameter-name-constraints',
    ),
  notFound: (name?: string) => new ServiceError('ParameterNotFound', name === undefined ? '' : `Parameter ${name} not found.`),
  exists: () => new ServiceError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'),
  versionNotFound: (name: string, version: number | string) =>
    new ServiceError('ParameterVersionNotFound', `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`),
  tagsWithOverwrite: () =>
    new ServiceError(
      'ValidationException',
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
    ),
  invalidNextToken: () => new ServiceError('InvalidNextToken', 'The nextToken is not valid.'),
};
