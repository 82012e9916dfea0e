import { pageOf, type Page } from '../api/pagination.js';
import type { CallContext, JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { ServiceError } from '../model/errors.js';
import { keys } from '../state/keys.js';
import { parseParameterRecord, type ParameterRecord } from '../state/records/parameters.js';
import type { KeyValueTag } from '../state/records/secrets.js';
import { parameterErrors } from './errors.js';
import { ssmActions } from './iam-actions.js';
import { parameterMatcher, underPath } from './parameter-filters.js';
import { isValidLabel, parameterArn, parseSelector } from './parameter-names.js';
import { ParameterStore, type ParametersEnv, type ParameterValue } from './parameter-store.js';

export const SSM_TARGET_PREFIX = 'AmazonSSM';

const seconds = (ms: number) => ms / 1000;
const MAX_TAGS = 50;

/**
 * AWS Systems Manager Parameter Store: String, StringList and SecureString parameters with versions, labels,
 * hierarchies and tags. The rest of Systems Manager (documents, commands, sessions, inventory…) answers
 * UnsupportedFeatureException.
 */
export function parameterStoreService(env: ParametersEnv): JsonService {
  const params = new ParameterStore(env);

  /** The Parameter shape: the value opened only WithDecryption for a SecureString (else its sealed form, as AWS gives its ciphertext). */
  const parameterOut = (p: ParameterValue, withDecryption: boolean, selector?: string) => ({
    Name: p.record.name,
    Type: p.version.type,
    Value: p.version.type === 'SecureString' && !withDecryption ? Buffer.from(p.version.sealed).toString('base64') : p.value,
    Version: p.version.version,
    ...(selector !== undefined ? { Selector: selector } : {}),
    LastModifiedDate: seconds(p.version.lastModifiedDate),
    ARN: parameterArn(env.scope, p.record.name),
    DataType: p.version.dataType,
  });

  const getOne = async (reference: string, withDecryption: boolean) => {
    const selector = parseSelector(reference);
    return parameterOut(await params.get(selector), withDecryption, selector.selector);
  };

  const operations: Record<string, Operation> = {
    async PutParameter(input, call: CallContext) {
      if (input.Policies !== undefined) throw parameterErrors.validation('berth does not support parameter policies (Policies).');
      const out = await params.put({
        name: input.Name,
        value: input.Value,
        ...(input.Type !== undefined ? { type: input.Type } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.KeyId !== undefined ? { keyId: input.KeyId } : {}),
        overwrite: input.Overwrite === true,
        ...(input.AllowedPattern !== undefined ? { allowedPattern: input.AllowedPattern } : {}),
        ...(input.Tags !== undefined ? { tags: checkTags(input.Tags) } : {}),
        ...(input.Tier !== undefined ? { tier: input.Tier } : {}),
        ...(input.DataType !== undefined ? { dataType: input.DataType } : {}),
        user: call.principal.arn,
      });
      return { Version: out.version, Tier: out.tier };
    },

    async GetParameter(input) {
      return { Parameter: await getOne(input.Name, input.WithDecryption === true) };
    },

    async GetParameters(input) {
      const found: object[] = [];
      const invalid: string[] = [];
      for (const name of new Set<string>(input.Names)) {
        try {
          found.push(await getOne(name, input.WithDecryption === true));
        } catch (error) {
          if (!(error instanceof ServiceError) || !['ParameterNotFound', 'ParameterVersionNotFound'].includes(error.type)) throw error;
          invalid.push(name);
        }
      }
      return { Parameters: found, InvalidParameters: invalid };
    },

    async GetParametersByPath(input) {
      const path: string = input.Path;
      if (!path.startsWith('/')) throw parameterErrors.validation('The parameter path must begin with a forward slash (/).');
      const matches = parameterMatcher(input.ParameterFilters, undefined, 'path');
      const base = path.endsWith('/') ? path : `${path}/`;
      const page = await pageOfRecords(keys.parameter(base), input, 10, (r) => underPath(r.name, base, input.Recursive === true) && matches(r));
      const out = [];
      for (const record of page.items) out.push(parameterOut(await params.openVersion(record, record.version), input.WithDecryption === true));
      return { Parameters: out, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async GetParameterHistory(input) {
      const record = await params.find(input.Name);
      if (!record) throw parameterErrors.notFound();
      const all = await params.history(record);
      const size = input.MaxResults ?? 50;
      const start = input.NextToken === undefined ? 0 : offsetOf(input.NextToken);
      const slice = all.slice(start, start + size);
      const labelsOf = (v: number) => Object.entries(record.labels).filter(([, n]) => n === v).map(([l]) => l);
      return {
        Parameters: slice.map((v) => ({
          Name: record.name,
          Type: v.type,
          ...(v.keyId !== undefined ? { KeyId: v.keyId } : {}),
          LastModifiedDate: seconds(v.lastModifiedDate),
          LastModifiedUser: v.lastModifiedUser,
          ...(v.description !== undefined ? { Description: v.description } : {}),
          Value: v.type === 'SecureString' && input.WithDecryption !== true ? Buffer.from(v.sealed).toString('base64') : params.openSealed(record.name, v),
          ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
          Version: v.version,
          Labels: labelsOf(v.version),
          Tier: v.tier,
          Policies: [],
          DataType: v.dataType,
        })),
        ...(start + size < all.length ? { NextToken: Buffer.from(`#${start + size}`).toString('base64url') } : {}),
      };
    },

    async DeleteParameter(input) {
      if (!(await params.delete(input.Name))) throw parameterErrors.notFound(input.Name);
      return {};
    },

    async DeleteParameters(input) {
      const deleted: string[] = [];
      const invalid: string[] = [];
      for (const name of new Set<string>(input.Names)) ((await params.delete(name)) ? deleted : invalid).push(name);
      return { DeletedParameters: deleted, InvalidParameters: invalid };
    },

    async DescribeParameters(input) {
      if (input.Shared) throw parameterErrors.validation('berth has no parameters shared by other accounts (Shared).');
      const matches = parameterMatcher(input.ParameterFilters, input.Filters, 'describe');
      const page = await pageOfRecords(keys.parameters(), input, 50, matches);
      return {
        Parameters: page.items.map((r) => ({
          Name: r.name,
          ARN: parameterArn(env.scope, r.name),
          Type: r.type,
          ...(r.keyId !== undefined ? { KeyId: r.keyId } : {}),
          LastModifiedDate: seconds(r.lastModifiedDate),
          LastModifiedUser: r.lastModifiedUser,
          ...(r.description !== undefined ? { Description: r.description } : {}),
          ...(r.allowedPattern !== undefined ? { AllowedPattern: r.allowedPattern } : {}),
          Version: r.version,
          Tier: r.tier,
          Policies: [],
          DataType: r.dataType,
        })),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    },

    async AddTagsToResource(input) {
      checkResourceType(input.ResourceType);
      const added = checkTags(input.Tags);
      await params.change(input.ResourceId, () => invalidResourceId(), (r) => {
        const merged = new Map(r.tags.map((t) => [t.Key, t.Value]));
        for (const t of added) merged.set(t.Key, t.Value);
        if (merged.size > MAX_TAGS) throw new ServiceError('TooManyTagsError', `A parameter can have at most ${MAX_TAGS} tags.`);
        return { ...r, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) };
      });
      return {};
    },

    async ListTagsForResource(input) {
      checkResourceType(input.ResourceType);
      const record = await params.find(input.ResourceId);
      if (!record) throw invalidResourceId();
      return { TagList: record.tags };
    },

    async RemoveTagsFromResource(input) {
      checkResourceType(input.ResourceType);
      const drop = new Set<string>(input.TagKeys);
      await params.change(input.ResourceId, () => invalidResourceId(), (r) => ({ ...r, tags: r.tags.filter((t) => !drop.has(t.Key)) }));
      return {};
    },

    async LabelParameterVersion(input) {
      const { version, invalid } = await params.label(input.Name, input.ParameterVersion, input.Labels, isValidLabel);
      return { InvalidLabels: invalid, ParameterVersion: version };
    },

    async UnlabelParameterVersion(input) {
      const removed: string[] = [];
      const invalid: string[] = [];
      await params.change(input.Name, () => parameterErrors.notFound(), (r) => {
        if (!r.versions.includes(input.ParameterVersion)) throw parameterErrors.versionNotFound(r.name, input.ParameterVersion);
        const labels = { ...r.labels };
        for (const l of input.Labels as string[]) {
          if (Object.hasOwn(labels, l) && labels[l] === input.ParameterVersion) {
            delete labels[l];
            removed.push(l);
          } else invalid.push(l);
        }
        return { ...r, labels };
      });
      return { RemovedLabels: removed, InvalidLabels: invalid };
    },
  };

  async function pageOfRecords(prefix: string, input: { NextToken?: string; MaxResults?: number }, defaultSize: number, keep: (r: ParameterRecord) => boolean): Promise<Page<ParameterRecord>> {
    try {
      return await pageOf(env.store, prefix, { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize, maxSize: defaultSize }, (e) => {
        const r = parseParameterRecord(e.value, e.key);
        return keep(r) ? r : undefined;
      });
    } catch (error) {
      if (error instanceof ServiceError && error.message.startsWith('The nextToken')) throw parameterErrors.invalidNextToken();
      throw error;
    }
  }

  return {
    targetPrefix: SSM_TARGET_PREFIX,
    signingNames: ['ssm'],
    model: loadServiceModel('ssm-2014-11-06.json'),
    inputErrorType: 'ValidationException',
    actions: ssmActions,
    operations,
  };
}

function offsetOf(token: string): number {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const n = Number(text.slice(1));
  if (!text.startsWith('#') || !Number.isInteger(n) || n < 0) throw parameterErrors.invalidNextToken();
  return n;
}

function checkResourceType(type: string): void {
  if (type !== 'Parameter') throw new ServiceError('InvalidResourceType', `berth's Systems Manager tags parameters only, not resources of type ${type}.`);
}

const invalidResourceId = () => new ServiceError('InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.');

function checkTags(tags: readonly KeyValueTag[]): readonly KeyValueTag[] {
  if (tags.length > MAX_TAGS) throw new ServiceError('TooManyTagsError', `A parameter can have at most ${MAX_TAGS} tags.`);
  for (const t of tags) if (t.Key.toLowerCase().startsWith('aws:')) throw parameterErrors.validation('Tag keys starting with "aws:" are reserved for AWS use.');
  return tags;
}
