/**
 * IP addresses and CIDR blocks for the `IpAddress`/`NotIpAddress` condition operators: IPv4 (`203.0.113.0/24`)
 * and IPv6 (`2001:DB8:1234:5678::/64`), as IAM accepts them; an address with no `/bits` is a single host.
 */

export interface IpBlock {
  readonly version: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
}

function parseV4(text: string): bigint | undefined {
  // By hand rather than split and regular expressions: the request's aws:SourceIp is parsed on every evaluation.
  let n = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = (octet < 0 ? 0 : octet) * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 && octet >= 0 && dots < 3) {
      n = n * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else return undefined;
  }
  if (dots !== 3 || octet < 0) return undefined;
  return BigInt(n * 256 + octet);
}

function parseV6(text: string): bigint | undefined {
  let head = text;
  let tailV4: bigint | undefined;
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) n = (n & ~0xffffffffn) | tailV4;
  return n;
}

/** Parses an address or CIDR block; undefined when it is neither. */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text.trim() : text.slice(0, slash).trim();
  const version = addr.includes(':') ? 6 : 4;
  const width = version === 4 ? 32 : 128;
  const bits = slash < 0 ? width : Number(text.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
  const n = version === 4 ? parseV4(addr) : parseV6(addr);
  if (n === undefined) return undefined;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { version, base: n & mask, bits };
}

/** True when `address` (a plain address) lies in `block`. */
export function blockContains(block: IpBlock, address: string): boolean {
  const ip = parseIpBlock(address);
  return ip !== undefined && blockContainsIp(block, ip);
}

/** True when `ip` (a parsed single address) lies in `block`. */
export function blockContainsIp(block: IpBlock, ip: IpBlock): boolean {
  if (ip.bits !== (ip.version === 4 ? 32 : 128) || ip.version !== block.version) return false;
  const width = block.version === 4 ? 32 : 128;
  const mask = block.bits === 0 ? 0n : ((1n << BigInt(block.bits)) - 1n) << BigInt(width - block.bits);
  return (ip.base & mask) === block.base;
}
