/**
 * What RegisterInstance requires of an instance's attributes, from its service's DNS records (Cloud Map's
 * rules): A needs AWS_INSTANCE_IPV4, AAAA needs AWS_INSTANCE_IPV6, SRV needs AWS_INSTANCE_PORT (and an
 * address for the instance's own A/AAAA record), CNAME needs AWS_INSTANCE_CNAME. Also the shape rules of a
 * service's DnsConfig. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { DnsRecordSpec, RoutingPolicy } from '../state/records/cloudmap.js';
import { cloudMapErrors } from './errors.js';

export const IPV4 = 'AWS_INSTANCE_IPV4';
export const IPV6 = 'AWS_INSTANCE_IPV6';
export const PORT = 'AWS_INSTANCE_PORT';
export const CNAME = 'AWS_INSTANCE_CNAME';
export const ALIAS = 'AWS_ALIAS_DNS_NAME';

/** At most this many custom attributes per instance (Cloud Map's quota is 30). */
const MAX_ATTRIBUTES = 30;

/** DnsConfig's records and routing policy, checked as Cloud Map checks them. */
export function checkDnsConfig(records: readonly DnsRecordSpec[], routingPolicy: RoutingPolicy): void {
  if (records.length === 0) throw cloudMapErrors.invalid('DnsConfig.DnsRecords must hold at least one record.');
  const types = records.map((r) => r.Type);
  if (new Set(types).size !== types.length) throw cloudMapErrors.invalid(`DnsConfig.DnsRecords has a record type twice (${types.join(', ')}).`);
  if (types.includes('CNAME') && types.length > 1) throw cloudMapErrors.invalid('DnsConfig.DnsRecords: a CNAME record cannot be combined with other record types.');
  if (types.includes('CNAME') && routingPolicy !== 'WEIGHTED') throw cloudMapErrors.invalid('DnsConfig.RoutingPolicy must be WEIGHTED for a CNAME record.');
  for (const r of records) {
    if (!Number.isInteger(r.TTL) || r.TTL < 0 || r.TTL > 2147483647) throw cloudMapErrors.invalid(`DnsConfig.DnsRecords.TTL ${r.TTL} is not between 0 and 2147483647.`);
  }
}

/** An instance's attributes for a service with `records` (none: an HTTP-only service). */
export function checkInstanceAttributes(attributes: Readonly<Record<string, string>>, records: readonly DnsRecordSpec[] | undefined): void {
  if (Object.keys(attributes).length > MAX_ATTRIBUTES) throw cloudMapErrors.invalid(`Attributes: an instance can have at most ${MAX_ATTRIBUTES} attributes.`);
  const ipv4 = attributes[IPV4];
  const ipv6 = attributes[IPV6];
  const port = attributes[PORT];
  if (ipv4 !== undefined && !isIPv4(ipv4)) throw cloudMapErrors.invalid(`Attributes.${IPV4} '${ipv4}' is not an IPv4 address.`);
  if (ipv6 !== undefined && !isIPv6(ipv6)) throw cloudMapErrors.invalid(`Attributes.${IPV6} '${ipv6}' is not an IPv6 address.`);
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    throw cloudMapErrors.invalid(`Attributes.${PORT} '${port}' is not a port between 1 and 65535.`);
  }
  for (const r of records ?? []) {
    if (r.Type === 'A' && ipv4 === undefined) throw cloudMapErrors.invalid(`Attributes.${IPV4} is required: the service has an A record.`);
    if (r.Type === 'AAAA' && ipv6 === undefined) throw cloudMapErrors.invalid(`Attributes.${IPV6} is required: the service has an AAAA record.`);
    if (r.Type === 'SRV') {
      if (port === undefined) throw cloudMapErrors.invalid(`Attributes.${PORT} is required: the service has an SRV record.`);
      if (ipv4 === undefined && ipv6 === undefined) throw cloudMapErrors.invalid(`Attributes.${IPV4} or ${IPV6} is required: the service has an SRV record.`);
    }
    if (r.Type === 'CNAME' && attributes[CNAME] === undefined) throw cloudMapErrors.invalid(`Attributes.${CNAME} is required: the service has a CNAME record.`);
  }
}
