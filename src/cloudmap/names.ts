/**
 * Names and ids in Cloud Map. DNS namespaces and their services become DNS names berth's resolver answers,
 * so they are held to RFC 1035's label syntax (a letter first, then letters, digits and hyphens, not ending
 * in a hyphen, 1–63 characters; 253 in all), with one allowance Cloud Map documents for SRV-style service
 * names: a label may start with `_` (`_http._tcp`). HTTP namespaces and their services keep the model's
 * looser syntax (checked by the shape validator).
 */
import { randomBytes } from 'node:crypto';
import type { ArnScope } from '../model/arn.js';
import { cloudMapErrors } from './errors.js';

const LABEL = /^[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const SERVICE_LABEL = /^_?[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `name` is not an RFC 1035 domain name, or undefined when it is one. */
export function dnsNameProblem(name: string, options: { underscoreLabels?: boolean } = {}): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0) return 'is empty';
  if (bare.length > 253) return 'is longer than 253 characters';
  const label = options.underscoreLabels ? SERVICE_LABEL : LABEL;
  for (const part of bare.split('.')) {
    if (!label.test(part)) {
      return `has the label '${part}', which is not an RFC 1035 label (a letter, then letters, digits or hyphens, not ending in a hyphen, at most 63)`;
    }
  }
  return undefined;
}

/** A DNS namespace's name, lower-cased and without a trailing dot; InvalidInput naming `field` otherwise. */
export function checkDnsNamespaceName(name: string, field = 'Name'): string {
  const problem = dnsNameProblem(name);
  if (problem) throw cloudMapErrors.invalid(`${field} '${name}' ${problem}.`);
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** A service's name in a DNS namespace: the full name `<service>.<namespace>` must be a domain name too. */
export function checkDnsServiceName(name: string, namespaceName: string): void {
  const problem = dnsNameProblem(name, { underscoreLabels: true });
  if (problem) throw cloudMapErrors.invalid(`Name '${name}' ${problem}.`);
  if (name.length + 1 + namespaceName.length > 253) throw cloudMapErrors.invalid(`Name '${name}' makes the service's DNS name longer than 253 characters.`);
}

const idOf = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;

/** `ns-` and 16 hex digits, as Cloud Map's ids look. */
export const newNamespaceId = () => idOf('ns');
export const newServiceId = () => idOf('srv');
/** Operation ids are longer in Cloud Map; these carry 128 random bits. */
export const newOperationId = () => randomBytes(16).toString('hex');
export const newHostedZoneId = () => `Z${randomBytes(10).toString('hex').toUpperCase()}`;

export const namespaceArn = (scope: ArnScope, id: string) => `arn:aws:servicediscovery:${scope.region}:${scope.accountId}:namespace/${id}`;
export const serviceArn = (scope: ArnScope, id: string) => `arn:aws:servicediscovery:${scope.region}:${scope.accountId}:service/${id}`;

/** A service id or ARN (the API takes both in ServiceId/Id) → the id. */
export function serviceIdOf(idOrArn: string): string {
  const m = /^arn:[^:]+:servicediscovery:[^:]*:[^:]*:service\/(.+)$/.exec(idOrArn);
  return m ? m[1]! : idOrArn;
}

/** A namespace id or ARN → the id. */
export function namespaceIdOf(idOrArn: string): string {
  const m = /^arn:[^:]+:servicediscovery:[^:]*:[^:]*:namespace\/(.+)$/.exec(idOrArn);
  return m ? m[1]! : idOrArn;
}

/** A resource ARN (tags) → what it names, or undefined for an ARN that is not Cloud Map's namespace or service. */
export function parseCloudMapArn(arn: string): { kind: 'namespace' | 'service'; id: string } | undefined {
  const m = /^arn:[^:]+:servicediscovery:[^:]*:[^:]*:(namespace|service)\/(.+)$/.exec(arn);
  return m ? { kind: m[1] as 'namespace' | 'service', id: m[2]! } : undefined;
}
