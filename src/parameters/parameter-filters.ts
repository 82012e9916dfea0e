import { ServiceError } from '../model/errors.js';
import type { ParameterRecord } from '../state/records/parameters.js';
import { parameterErrors } from './errors.js';

export interface StringFilter {
  readonly Key: string;
  readonly Option?: string;
  readonly Values?: readonly string[];
}

export interface LegacyFilter {
  readonly Key: 'Name' | 'Type' | 'KeyId';
  readonly Values: readonly string[];
}

type Test = (record: ParameterRecord) => boolean;

/**
 * DescribeParameters' and GetParametersByPath's filters as one predicate. ParameterFilters: Name (Equals,
 * BeginsWith, Contains), Path (Recursive, OneLevel; DescribeParameters only), Type, KeyId, Tier, DataType,
 * Label and `tag:<key>` (Equals; a tag filter without values matches the key alone). The older Filters
 * (Name, Type, KeyId) match a name by its beginning and the others exactly. Every filter must hold.
 */
export function parameterMatcher(filters: readonly StringFilter[] | undefined, legacy: readonly LegacyFilter[] | undefined, where: 'describe' | 'path'): Test {
  if (filters?.length && legacy?.length) throw parameterErrors.validation('You can use either Filters or ParameterFilters in a single request.');
  const tests: Test[] = [];
  for (const f of legacy ?? []) {
    const values = f.Values;
    if (f.Key === 'Name') tests.push((r) => values.some((v) => r.name.startsWith(v)));
    else if (f.Key === 'Type') tests.push((r) => values.includes(r.type));
    else tests.push((r) => r.keyId !== undefined && values.includes(r.keyId));
  }
  for (const f of filters ?? []) tests.push(stringFilter(f, where));
  return (record) => tests.every((t) => t(record));
}

function stringFilter(f: StringFilter, where: 'describe' | 'path'): Test {
  const values = f.Values ?? [];
  const option = f.Option ?? (f.Key === 'Path' ? 'OneLevel' : 'Equals');
  const badOption = (valid: string) =>
    new ServiceError('InvalidFilterOption', `The filter option '${option}' is not valid for key ${f.Key}. Valid options: ${valid}.`);
  if (f.Key.startsWith('tag:')) {
    if (option !== 'Equals') throw badOption('Equals');
    const tagKey = f.Key.slice(4);
    return (r) => r.tags.some((t) => t.Key === tagKey && (values.length === 0 || values.includes(t.Value)));
  }
  if (values.length === 0) throw new ServiceError('InvalidFilterValue', `The filter ${f.Key} needs at least one value.`);
  switch (f.Key) {
    case 'Name': {
      if (where === 'path') throw new ServiceError('InvalidFilterKey', 'The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId, Label, tag].');
      const match = { Equals: (n: string, v: string) => n === v, BeginsWith: (n: string, v: string) => n.startsWith(v), Contains: (n: string, v: string) => n.includes(v) }[option];
      if (!match) throw badOption('Equals, BeginsWith, Contains');
      // A name without its leading slash finds the hierarchical one too, as AWS does.
      return (r) => values.some((v) => match(r.name, v) || (!v.startsWith('/') && r.name.startsWith('/') && match(r.name.slice(1), v)));
    }
    case 'Path': {
      if (where === 'path') throw new ServiceError('InvalidFilterKey', 'The following filter key is not valid: Path. Valid filter keys include: [Type, KeyId, Label, tag].');
      if (option !== 'Recursive' && option !== 'OneLevel') throw badOption('Recursive, OneLevel');
      return (r) => values.some((v) => underPath(r.name, v, option === 'Recursive'));
    }
    case 'Type':
    case 'KeyId':
    case 'Tier':
    case 'DataType': {
      if (option !== 'Equals') throw badOption('Equals');
      const field = ({ Type: 'type', KeyId: 'keyId', Tier: 'tier', DataType: 'dataType' } as const)[f.Key];
      return (r) => values.includes(String(r[field]));
    }
    case 'Label': {
      if (option !== 'Equals') throw badOption('Equals');
      return (r) => values.some((v) => Object.hasOwn(r.labels, v));
    }
    default:
      throw new ServiceError('InvalidFilterKey', `The following filter key is not valid: ${f.Key}.`);
  }
}

/** Whether `name` lies under `path` (one level below it, or any depth when recursive). */
export function underPath(name: string, path: string, recursive: boolean): boolean {
  const base = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(base)) return false;
  return recursive || !name.slice(base.length).includes('/');
}
