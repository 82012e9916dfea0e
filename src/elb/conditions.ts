import { isIP } from 'node:net';
import type { ElbCondition } from '../state/records/elb.js';
import { elbErrors } from './errors.js';

/**
 * Rule conditions of Application Load Balancers: path-pattern, host-header, http-header, http-request-method,
 * query-string and source-ip, each in its `…Config` form (path-pattern and host-header also in the older
 * `Values` form). AWS's limits: at most 5 values over a rule's conditions (wildcards count as values), each of
 * path-pattern, host-header, http-request-method and source-ip at most once. Stored as DescribeRules shows
 * them: both forms for path-pattern and host-header, the config form for the others.
 */

export interface ConditionInput {
  readonly Field?: string;
  readonly Values?: readonly string[];
  readonly HostHeaderConfig?: { readonly Values?: readonly string[]; readonly RegexValues?: readonly string[] };
  readonly PathPatternConfig?: { readonly Values?: readonly string[]; readonly RegexValues?: readonly string[] };
  readonly HttpHeaderConfig?: { readonly HttpHeaderName?: string; readonly Values?: readonly string[]; readonly RegexValues?: readonly string[] };
  readonly QueryStringConfig?: { readonly Values?: readonly { readonly Key?: string; readonly Value?: string }[] };
  readonly HttpRequestMethodConfig?: { readonly Values?: readonly string[] };
  readonly SourceIpConfig?: { readonly Values?: readonly string[] };
  readonly RegexValues?: readonly string[];
}

const ONCE = ['path-pattern', 'host-header', 'http-request-method', 'source-ip'];
const MAX_VALUES = 5;
const PATTERN = /^[A-Za-z0-9_\-.$/~"'@:+&*?;=%]{1,128}$/;
const HOST = /^[A-Za-z0-9\-.*?]{1,128}$/;
const METHOD = /^[A-Z_-]{1,40}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/;

/** Check a rule's conditions and normalize them. */
export function checkConditions(input: readonly ConditionInput[]): ElbCondition[] {
  if (input.length === 0) throw elbErrors.validation('A rule must have at least one condition');
  const seen = new Set<string>();
  let values = 0;
  const out: ElbCondition[] = [];
  for (const c of input) {
    const field = c.Field;
    if (field === undefined) throw elbErrors.validation('A condition field must be specified');
    if (c.RegexValues !== undefined || c.HostHeaderConfig?.RegexValues !== undefined || c.PathPatternConfig?.RegexValues !== undefined || c.HttpHeaderConfig?.RegexValues !== undefined) {
      throw elbErrors.validation('berth does not support regular expression conditions (RegexValues)');
    }
    if (ONCE.includes(field)) {
      if (seen.has(field)) throw elbErrors.validation(`A rule can have the condition '${field}' only once`);
      seen.add(field);
    }
    const condition = one(field, c);
    values += countValues(condition);
    out.push(condition);
  }
  if (values > MAX_VALUES) throw elbErrors.validation(`A rule can only have '${MAX_VALUES}' condition values`);
  return out;
}

function one(field: string, c: ConditionInput): ElbCondition {
  const pick = (config: { readonly Values?: readonly string[] } | undefined, name: string): string[] => {
    if (c.Values !== undefined && config !== undefined) throw elbErrors.validation(`You cannot specify both 'Values' and '${name}' for the condition '${field}'`);
    const list = config?.Values ?? c.Values;
    if (list === undefined || list.length === 0) throw elbErrors.validation(`A value must be specified for the condition '${field}'`);
    return [...list];
  };
  const check = (list: readonly string[], ok: (v: string) => boolean, what: string) => {
    for (const v of list) if (!ok(v)) throw elbErrors.validation(`Condition value '${v}' is not a valid ${what}`);
  };
  switch (field) {
    case 'path-pattern': {
      const list = pick(c.PathPatternConfig, 'PathPatternConfig');
      check(list, (v) => PATTERN.test(v), 'path pattern');
      return { Field: field, Values: list, PathPatternConfig: { Values: list } };
    }
    case 'host-header': {
      const list = pick(c.HostHeaderConfig, 'HostHeaderConfig');
      check(list, (v) => HOST.test(v), 'host header');
      return { Field: field, Values: list, HostHeaderConfig: { Values: list } };
    }
    case 'http-header': {
      if (c.Values !== undefined) throw elbErrors.validation("The condition 'http-header' must be specified with 'HttpHeaderConfig'");
      const name = c.HttpHeaderConfig?.HttpHeaderName;
      if (name === undefined || !HEADER_NAME.test(name)) throw elbErrors.validation(`HTTP header name '${String(name)}' is not valid`);
      const list = pick(c.HttpHeaderConfig, 'HttpHeaderConfig');
      check(list, (v) => v.length >= 1 && v.length <= 128, 'HTTP header value');
      return { Field: field, HttpHeaderConfig: { HttpHeaderName: name, Values: list } };
    }
    case 'http-request-method': {
      if (c.Values !== undefined) throw elbErrors.validation("The condition 'http-request-method' must be specified with 'HttpRequestMethodConfig'");
      const list = pick(c.HttpRequestMethodConfig, 'HttpRequestMethodConfig');
      check(list, (v) => METHOD.test(v), 'HTTP request method');
      return { Field: field, HttpRequestMethodConfig: { Values: list } };
    }
    case 'source-ip': {
      if (c.Values !== undefined) throw elbErrors.validation("The condition 'source-ip' must be specified with 'SourceIpConfig'");
      const list = pick(c.SourceIpConfig, 'SourceIpConfig');
      check(list, isCidr, 'CIDR block');
      return { Field: field, SourceIpConfig: { Values: list } };
    }
    case 'query-string': {
      if (c.Values !== undefined) throw elbErrors.validation("The condition 'query-string' must be specified with 'QueryStringConfig'");
      const pairs = c.QueryStringConfig?.Values;
      if (pairs === undefined || pairs.length === 0) throw elbErrors.validation("A value must be specified for the condition 'query-string'");
      for (const p of pairs) {
        if (p.Value === undefined || p.Value === '') throw elbErrors.validation('A query string condition value must be specified');
      }
      return { Field: field, QueryStringConfig: { Values: pairs.map((p) => ({ ...(p.Key !== undefined ? { Key: p.Key } : {}), Value: p.Value })) } };
    }
    default:
      throw elbErrors.validation(`Condition field '${field}' must be one of [http-header, http-request-method, host-header, path-pattern, query-string, source-ip]`);
  }
}

function countValues(c: ElbCondition): number {
  const configs = [c.PathPatternConfig, c.HostHeaderConfig, c.HttpHeaderConfig, c.HttpRequestMethodConfig, c.SourceIpConfig, c.QueryStringConfig] as ({ Values?: unknown[] } | undefined)[];
  return configs.reduce((n, config) => n + (config?.Values?.length ?? 0), 0);
}

function isCidr(v: string): boolean {
  const [address, bits, ...rest] = v.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(address);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}
