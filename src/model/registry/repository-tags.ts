import { ServiceError } from '../errors.js';

/** An ECR resource tag (capitalised members, unlike ECS's). */
export interface EcrTag {
  readonly Key: string;
  readonly Value: string;
}

/** ECR allows 50 tags on a repository. */
export const MAX_REPOSITORY_TAGS = 50;
const invalidTag = (message: string) => new ServiceError('InvalidTagParameterException', message);

/** ECR's tag rules: keys 1–128 characters, values up to 256, `aws:` reserved, keys unique, at most 50. */
export function validateEcrTags(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): EcrTag[] {
  const out: EcrTag[] = [];
  const seen = new Set<string>();
  for (const [i, tag] of (tags ?? []).entries()) {
    const key = tag.Key ?? '';
    const value = tag.Value ?? '';
    if (key.length < 1 || key.length > 128) throw invalidTag(`tags[${i}].Key must be 1 to 128 characters.`);
    if (value.length > 256) throw invalidTag(`tags[${i}].Value must be at most 256 characters.`);
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag(`Tag keys beginning with 'aws:' are reserved: '${key}'.`);
    if (seen.has(key)) throw invalidTag(`Duplicate tag key '${key}'.`);
    seen.add(key);
    out.push({ Key: key, Value: value });
  }
  if (out.length > MAX_REPOSITORY_TAGS) throw new ServiceError('TooManyTagsException', `A repository can have at most ${MAX_REPOSITORY_TAGS} tags.`);
  return out;
}

