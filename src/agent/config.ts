import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';

/**
 * The agent's settings, compiled once at start from (lowest to highest precedence) defaults, the
 * ecs.config file, the environment and command-line flags, with the Amazon ECS agent's names.
 * Nothing else in the agent reads the environment.
 */
export interface AgentConfig {
  /**
   * The control plane's replicas (ECS_BACKEND_HOST, comma-separated): origins like `http://host:7400`, in
   * the order given. The agent spreads over them and fails over between them (agent/endpoints.ts).
   */
  readonly endpoints: readonly string[];
  readonly cluster: string;
  readonly region: string;
  readonly dataDir: string;
  readonly instanceAttributes: Readonly<Record<string, string>>;
  /** MiB kept back from the MEMORY the instance registers. */
  readonly reservedMemory: number;
  readonly reservedPorts: readonly number[];
  readonly reservedPortsUdp: readonly number[];
  /** Where hostPort 0 mappings get their port (ECS_DYNAMIC_HOST_PORT_RANGE, default 49153-65535). */
  readonly dynamicHostPortRange: { readonly first: number; readonly last: number };
  readonly containerStopTimeoutMs: number;
  readonly containerStartTimeoutMs: number;
  readonly taskCleanupWaitMs: number;
  readonly imagePullBehavior: ImagePullBehavior;
  readonly imageCleanup: boolean;
  readonly logLevel: string;
  readonly insecureRegistries: readonly string[];
  /** Simulated host size and placement (BERTH_*), overriding what the machine has. */
  readonly cpuUnits: number;
  readonly memoryMib: number;
  readonly availabilityZone: string;
  readonly instanceType: string;
  readonly containerInstanceTags: Readonly<Record<string, string>>;
  readonly imageCleanupIntervalMs: number;
  /**
   * How often the agent sends its tasks' CPU and memory figures (PublishMetricsRequest) for AWS/ECS utilization:
   * a minute, as ECS publishes (BERTH_METRICS_PUBLISH_INTERVAL; shorter only for tests and demos; `0` or
   * ECS_DISABLE_METRICS=true: never).
   */
  readonly metricsPublishIntervalMs: number;
  /** Images pulled or used more recently than this are kept (ECS_IMAGE_MINIMUM_CLEANUP_AGE). */
  readonly imageMinimumCleanupAgeMs: number;
  /** berth's bridge network on this host (BERTH_BRIDGE_NAME, BERTH_BRIDGE_SUBNET). */
  readonly bridgeName: string;
  readonly bridgeSubnet: string;
  /**
   * Bridge attachments kept ready for the next bridge task starts (BERTH_WARM_NETWORK_ATTACHMENTS,
   * default 2, 0 for none): see cni-network-service.ts.
   */
  readonly warmNetworkAttachments: number;
  /**
   * Where the task metadata endpoint listens (BERTH_METADATA_ADDRESS, default 169.254.170.2:80, `off` for
   * none). Port 0 takes a free port (tests): containers then learn it from ECS_CONTAINER_METADATA_URI_V4,
   * but those created before an agent restart keep the old one.
   */
  readonly metadataAddress?: MetadataAddress;
  /**
   * Fault injection for the crash tests (BERTH_TEST_CRASH_AT_SAVE=k): the agent kills itself with SIGKILL
   * as its k-th save of a task's state begins, as kill -9 would at that point of a start. Never set it
   * otherwise.
   */
  readonly crashAtSave?: number;
  /**
   * Task roles (ECS_ENABLE_TASK_IAM_ROLE, default false): containers of tasks with a taskRoleArn get their
   * role's credentials from the credentials endpoint; host-mode tasks too only with
   * ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST (a host-mode container shares the host's addresses, so the
   * endpoint cannot tell it from another task's by address).
   */
  readonly taskIamRole: boolean;
  readonly taskIamRoleNetworkHost: boolean;
  /**
   * berth's DNS server as containers reach it, set by hand (BERTH_DNS_SERVER, an IP address; resolv.conf has no
   * port, so it listens on 53): written as the only `nameserver` of containers' /etc/resolv.conf, so Cloud Map's DNS
   * namespaces resolve and other names are forwarded by it. A task definition's dnsServers replace it.
   */
  readonly dnsServer?: string;
  /**
   * The default when BERTH_DNS_SERVER is unset: the address of the agent's node-local DNS relay (port 53; the
   * metadata address's host, 169.254.170.2 by default, which every container can reach), relaying to the DNS
   * server the control plane advertises on the session (src/agent/dns-relay.ts). None with BERTH_DNS_SERVER set
   * or `off`.
   */
  readonly dnsRelay?: string;
  /**
   * Where operators' metrics are served, Prometheus text at `GET /metrics` (BERTH_METRICS_LISTEN or
   * `--metrics-listen`, `HOST:PORT`): tasks by state, running containers, task-start span durations. Off when unset.
   */
  readonly metricsListen?: { readonly host: string; readonly port: number };
  /**
   * The Service Connect proxy's address (BERTH_SERVICE_CONNECT_ADDRESS: an address of the host, or a
   * link-local one the agent adds to lo, as the metadata address): when set, the agent runs the per-host
   * proxy there and writes the namespace's client aliases into its Service Connect tasks' /etc/hosts.
   */
  readonly serviceConnectAddress?: string;
  /**
   * Where this host's ports (bridge tasks' host ports, host-mode tasks) are reachable from other hosts
   * (BERTH_HOST_ADDRESS, an IP address): registered as the `berth.host-address` attribute, where `berth lb`
   * sends an instance target's traffic. Undefined: the source address of the route to the control plane.
   */
  readonly hostAddress?: string;
  /**
   * A Fargate pool host (BERTH_FARGATE=true or `--fargate`): registered with the `berth.fargate-pool` attribute,
   * so that it takes only the cluster's FARGATE tasks and is left out of ListContainerInstances, and every task
   * runs under gVisor (runsc).
   */
  readonly fargate: boolean;
  /**
   * The EC2-style instance id to register as (BERTH_EC2_INSTANCE_ID, `i-` and 8 or 17 hex digits): a host group's
   * provisioner gives each host the id its group knows it by. Without it the agent makes one up at first start.
   */
  readonly ec2InstanceId?: string;
}

/** An IPv4 address and port to listen on. */
export interface MetadataAddress {
  readonly host: string;
  readonly port: number;
}

/** ECS's task metadata address, reachable from bridge-mode containers through their gateway. */
export const DEFAULT_METADATA_ADDRESS: MetadataAddress = { host: '169.254.170.2', port: 80 };

export const imagePullBehaviors = ['default', 'always', 'once', 'prefer-cached'] as const;
export type ImagePullBehavior = (typeof imagePullBehaviors)[number];

/** Flags given on the command line; they win over everything else. */
export interface AgentFlags {
  /** One control-plane URL or several, comma-separated (as ECS_BACKEND_HOST). */
  readonly endpoint?: string;
  readonly cluster?: string;
  readonly dataDir?: string;
  readonly config?: string;
  readonly cpuUnits?: string;
  readonly memoryMib?: string;
  readonly availabilityZone?: string;
  readonly region?: string;
  /** Serve operators' metrics at GET /metrics on HOST:PORT (BERTH_METRICS_LISTEN). */
  readonly metricsListen?: string;
  /** Join the cluster's Fargate pool (BERTH_FARGATE). */
  readonly fargate?: boolean;
}

export const DEFAULT_CONFIG_FILE = '/etc/ecs/ecs.config';

/** The settings the agent understands, by their ECS (or BERTH_) names. */
const KNOWN = new Set([
  'ECS_CLUSTER',
  'ECS_BACKEND_HOST',
  'ECS_DATADIR',
  'ECS_INSTANCE_ATTRIBUTES',
  'ECS_RESERVED_MEMORY',
  'ECS_RESERVED_PORTS',
  'ECS_RESERVED_PORTS_UDP',
  'ECS_DYNAMIC_HOST_PORT_RANGE',
  'ECS_CONTAINER_STOP_TIMEOUT',
  'ECS_CONTAINER_START_TIMEOUT',
  'ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION',
  'ECS_IMAGE_PULL_BEHAVIOR',
  'ECS_DISABLE_IMAGE_CLEANUP',
  'ECS_LOGLEVEL',
  'ECS_CONTAINER_INSTANCE_TAGS',
  'ECS_ENABLE_TASK_IAM_ROLE',
  'ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST',
  'AWS_DEFAULT_REGION',
  'BERTH_CPU_UNITS',
  'BERTH_MEMORY_MIB',
  'BERTH_AVAILABILITY_ZONE',
  'BERTH_INSTANCE_TYPE',
  'BERTH_INSECURE_REGISTRIES',
  'BERTH_BRIDGE_NAME',
  'BERTH_BRIDGE_SUBNET',
  'BERTH_WARM_NETWORK_ATTACHMENTS',
  'BERTH_METADATA_ADDRESS',
  'BERTH_HOST_ADDRESS',
  'BERTH_EC2_INSTANCE_ID',
  'BERTH_TEST_CRASH_AT_SAVE',
  'BERTH_DNS_SERVER',
  'BERTH_SERVICE_CONNECT_ADDRESS',
  'BERTH_METRICS_LISTEN',
  'BERTH_FARGATE',
]);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parse an ecs.config file: `NAME=value` lines, `#` comments and blank lines. Values may be quoted.
 * Anything else is refused with the line number, as is an unknown name (a typo would otherwise be ignored).
 */
export function parseEcsConfig(text: string, file = 'ecs.config'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected NAME=value, got '${raw}'`);
    const name = m[1]!;
    if (!KNOWN.has(name) && !name.startsWith('ECS_')) throw new ConfigError(`${file}:${i + 1}: unknown setting '${name}'`);
    let value = m[2]!.trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    out[name] = value;
  });
  return out;
}

/** ECS durations: Go-style ("30s", "3h", "1m30s", "500ms") or plain seconds. */
export function parseDuration(value: string, name: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(value))) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || value === '') throw new ConfigError(`${name}: '${value}' is not a duration (like 30s, 5m, 3h)`);
  return total;
}

function parsePorts(value: string | undefined, name: string, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  try {
    const ports = JSON.parse(value) as unknown;
    if (Array.isArray(ports) && ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) return ports as number[];
  } catch {
    // fall through
  }
  throw new ConfigError(`${name}: expected a JSON list of port numbers, got '${value}'`);
}

/** `first-last`, as the ECS agent takes it ("49153-65535"). */
function parsePortRange(value: string | undefined, name: string): { first: number; last: number } {
  if (value === undefined) return { first: 49153, last: 65535 };
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(value);
  const [first, last] = m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN];
  if (!(first >= 1 && last <= 65535 && first <= last)) {
    throw new ConfigError(`${name}: expected a port range like 49153-65535 (first ≤ last, 1–65535), got '${value}'`);
  }
  return { first, last };
}

function parseJsonObject(value: string | undefined, name: string): Record<string, string> {
  if (value === undefined || value === '') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) {
      return parsed as Record<string, string>;
    }
  } catch {
    // fall through
  }
  throw new ConfigError(`${name}: expected a JSON object of strings, got '${value}'`);
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new ConfigError(`${name}: expected a positive whole number, got '${value}'`);
  return Number(value);
}

function wholeNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d{1,3}$/.test(value.trim())) throw new ConfigError(`${name}: expected a whole number from 0 to 999, got '${value}'`);
  return Number(value.trim());
}

/** BERTH_SERVICE_CONNECT_ADDRESS: an IPv4 address, or `off`/empty for no Service Connect proxy. */
export function parseServiceConnectAddress(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === 'off') return undefined;
  const v = value.trim();
  if (isIP(v) !== 4) throw new ConfigError(`BERTH_SERVICE_CONNECT_ADDRESS: expected an IPv4 address (e.g. 169.254.170.3) or 'off', got '${value}'`);
  return v;
}

/** BERTH_METRICS_LISTEN: `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (every interface). */
export function parseMetricsListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`BERTH_METRICS_LISTEN: expected HOST:PORT, [IPV6]:PORT or :PORT, got '${value}'`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * BERTH_DNS_SERVER: an IPv4 or IPv6 address, or `off` for none (containers keep the host's resolvers); unset or
 * empty: the node-local relay to the control plane's advertised DNS server (AgentConfig.dnsRelay).
 */
export function parseDnsServer(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === 'off') return undefined;
  const v = value.trim();
  if (!isIP(v)) throw new ConfigError(`BERTH_DNS_SERVER: expected an IP address (resolv.conf takes no port: berth's DNS server must listen on 53 there) or 'off', got '${value}'`);
  return v;
}

/** `off`, `a.b.c.d` (port 80) or `a.b.c.d:port` (0 for any free port). */
export function parseMetadataAddress(value: string | undefined): MetadataAddress | undefined {
  if (value === undefined || value === '') return DEFAULT_METADATA_ADDRESS;
  if (value === 'off') return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value);
  const octetsOk = m?.[1]!.split('.').every((o) => Number(o) <= 255);
  const port = m?.[2] === undefined ? 80 : Number(m[2]);
  if (!m || !octetsOk || port > 65535) {
    throw new ConfigError(`BERTH_METADATA_ADDRESS: expected an IPv4 address with an optional port (169.254.170.2:80) or 'off', got '${value}'`);
  }
  return { host: m[1]!, port };
}

/**
 * ECS_BACKEND_HOST / --endpoint: one URL or several, comma-separated (the replicas of one control plane).
 * Each must be an http(s) origin — berth serves every API at the root, and a path would be silently lost
 * when a request moves to another replica. Empty entries and repeats are refused: both are typos.
 */
export function parseEndpoints(value: string | undefined, source = 'ECS_BACKEND_HOST'): string[] {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError('no control plane endpoint: give --endpoint URL[,URL…] or set ECS_BACKEND_HOST');
  }
  const endpoints: string[] = [];
  value.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    const where = `${source} entry ${i + 1}`;
    if (entry === '') throw new ConfigError(`${where} is empty (in '${value}')`);
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(`${where}: '${entry}' is not a URL (like http://10.0.0.5:7400)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${where}: '${entry}' is not an http or https URL`);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new ConfigError(`${where}: '${entry}' must be scheme, host and port only (no path, query or credentials)`);
    }
    if (endpoints.includes(url.origin)) throw new ConfigError(`${where}: '${entry}' is listed twice`);
    endpoints.push(url.origin);
  });
  return endpoints;
}

export interface CompileInputs {
  readonly flags?: AgentFlags;
  readonly env?: NodeJS.ProcessEnv;
  /** Read a config file's text; undefined when it does not exist. */
  readonly readFile?: (path: string) => string | undefined;
}

export function compileAgentConfig({ flags = {}, env = process.env, readFile = readIfExists }: CompileInputs): AgentConfig {
  const file = flags.config ?? DEFAULT_CONFIG_FILE;
  const text = readFile(file);
  if (text === undefined && flags.config) throw new ConfigError(`config file ${file} does not exist`);
  const fromFile = text === undefined ? {} : parseEcsConfig(text, file);
  const get = (name: string): string | undefined => env[name] ?? fromFile[name];

  const endpoints =
    flags.endpoint !== undefined ? parseEndpoints(flags.endpoint, '--endpoint') : parseEndpoints(get('ECS_BACKEND_HOST'), 'ECS_BACKEND_HOST');
  const region = flags.region ?? get('AWS_DEFAULT_REGION') ?? 'us-east-1';
  const pull = get('ECS_IMAGE_PULL_BEHAVIOR') ?? 'default';
  if (!(imagePullBehaviors as readonly string[]).includes(pull)) {
    throw new ConfigError(`ECS_IMAGE_PULL_BEHAVIOR: expected one of ${imagePullBehaviors.join(', ')}, got '${pull}'`);
  }
  const cores = os.cpus().length;
  const totalMib = Math.floor(os.totalmem() / 1024 / 1024);
  const cpuUnits = positiveInt(flags.cpuUnits ?? get('BERTH_CPU_UNITS'), 'BERTH_CPU_UNITS', 1024 * cores);
  const memoryMib = positiveInt(flags.memoryMib ?? get('BERTH_MEMORY_MIB'), 'BERTH_MEMORY_MIB', totalMib);
  return {
    endpoints,
    cluster: flags.cluster ?? get('ECS_CLUSTER') ?? 'default',
    region,
    dataDir: flags.dataDir ?? get('ECS_DATADIR') ?? '/var/lib/berth/agent',
    instanceAttributes: parseJsonObject(get('ECS_INSTANCE_ATTRIBUTES'), 'ECS_INSTANCE_ATTRIBUTES'),
    reservedMemory: get('ECS_RESERVED_MEMORY') === undefined ? 0 : positiveInt(get('ECS_RESERVED_MEMORY'), 'ECS_RESERVED_MEMORY', 0),
    reservedPorts: parsePorts(get('ECS_RESERVED_PORTS'), 'ECS_RESERVED_PORTS', [22, 2375, 2376, 51678, 51679]),
    reservedPortsUdp: parsePorts(get('ECS_RESERVED_PORTS_UDP'), 'ECS_RESERVED_PORTS_UDP', []),
    dynamicHostPortRange: parsePortRange(get('ECS_DYNAMIC_HOST_PORT_RANGE'), 'ECS_DYNAMIC_HOST_PORT_RANGE'),
    containerStopTimeoutMs: parseDuration(get('ECS_CONTAINER_STOP_TIMEOUT') ?? '30s', 'ECS_CONTAINER_STOP_TIMEOUT'),
    containerStartTimeoutMs: parseDuration(get('ECS_CONTAINER_START_TIMEOUT') ?? '3m', 'ECS_CONTAINER_START_TIMEOUT'),
    taskCleanupWaitMs: parseDuration(get('ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION') ?? '3h', 'ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION'),
    imagePullBehavior: pull as ImagePullBehavior,
    imageCleanup: (get('ECS_DISABLE_IMAGE_CLEANUP') ?? 'false') !== 'true',
    logLevel: (get('ECS_LOGLEVEL') ?? 'info').toLowerCase(),
    insecureRegistries: (get('BERTH_INSECURE_REGISTRIES') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    cpuUnits,
    memoryMib,
    availabilityZone: flags.availabilityZone ?? get('BERTH_AVAILABILITY_ZONE') ?? `${region}a`,
    instanceType: get('BERTH_INSTANCE_TYPE') ?? `berth.${cpuUnits / 1024}cpu.${memoryMib}mib`,
    containerInstanceTags: parseJsonObject(get('ECS_CONTAINER_INSTANCE_TAGS'), 'ECS_CONTAINER_INSTANCE_TAGS'),
    imageCleanupIntervalMs: parseDuration(get('ECS_IMAGE_CLEANUP_INTERVAL') ?? '3h', 'ECS_IMAGE_CLEANUP_INTERVAL'),
    metricsPublishIntervalMs: parseBoolean(get('ECS_DISABLE_METRICS'), 'ECS_DISABLE_METRICS')
      ? 0
      : parseDuration(get('BERTH_METRICS_PUBLISH_INTERVAL') ?? '1m', 'BERTH_METRICS_PUBLISH_INTERVAL'),
    imageMinimumCleanupAgeMs: parseDuration(get('ECS_IMAGE_MINIMUM_CLEANUP_AGE') ?? '1h', 'ECS_IMAGE_MINIMUM_CLEANUP_AGE'),
    bridgeName: get('BERTH_BRIDGE_NAME') ?? 'berth0',
    bridgeSubnet: get('BERTH_BRIDGE_SUBNET') ?? '172.30.0.0/16',
    warmNetworkAttachments: wholeNumber(get('BERTH_WARM_NETWORK_ATTACHMENTS'), 'BERTH_WARM_NETWORK_ATTACHMENTS', 2),
    metadataAddress: parseMetadataAddress(get('BERTH_METADATA_ADDRESS')),
    taskIamRole: parseBoolean(get('ECS_ENABLE_TASK_IAM_ROLE'), 'ECS_ENABLE_TASK_IAM_ROLE'),
    taskIamRoleNetworkHost: parseBoolean(get('ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST'), 'ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST'),
    fargate: flags.fargate === true || parseBoolean(get('BERTH_FARGATE'), 'BERTH_FARGATE'),
    ...(parseDnsServer(get('BERTH_DNS_SERVER')) !== undefined ? { dnsServer: parseDnsServer(get('BERTH_DNS_SERVER'))! } : {}),
    ...((get('BERTH_DNS_SERVER') ?? '').trim() === '' ? { dnsRelay: (parseMetadataAddress(get('BERTH_METADATA_ADDRESS')) ?? DEFAULT_METADATA_ADDRESS).host } : {}),
    ...(parseServiceConnectAddress(get('BERTH_SERVICE_CONNECT_ADDRESS')) !== undefined
      ? { serviceConnectAddress: parseServiceConnectAddress(get('BERTH_SERVICE_CONNECT_ADDRESS'))! }
      : {}),
    ...((flags.metricsListen ?? get('BERTH_METRICS_LISTEN')) ? { metricsListen: parseMetricsListen((flags.metricsListen ?? get('BERTH_METRICS_LISTEN'))!) } : {}),
    ...(get('BERTH_HOST_ADDRESS') ? { hostAddress: parseHostAddress(get('BERTH_HOST_ADDRESS')!) } : {}),
    ...(get('BERTH_EC2_INSTANCE_ID') ? { ec2InstanceId: parseEc2InstanceId(get('BERTH_EC2_INSTANCE_ID')!) } : {}),
    ...(get('BERTH_TEST_CRASH_AT_SAVE') ? { crashAtSave: positiveInt(get('BERTH_TEST_CRASH_AT_SAVE'), 'BERTH_TEST_CRASH_AT_SAVE', 0) } : {}),
  };
}

/** BERTH_EC2_INSTANCE_ID: `i-` and 8 or 17 hex digits, as EC2's. */
function parseEc2InstanceId(value: string): string {
  const v = value.trim();
  if (!/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(v)) throw new ConfigError(`BERTH_EC2_INSTANCE_ID: expected i- and 8 or 17 hex digits, got '${value}'`);
  return v;
}

/** BERTH_HOST_ADDRESS: an IP address (a load balancer's HAProxy adds targets by address; it resolves no names). */
function parseHostAddress(value: string): string {
  const v = value.trim();
  if (isIP(v) === 0) throw new ConfigError(`BERTH_HOST_ADDRESS: expected an IPv4 or IPv6 address, got '${value}'`);
  return v;
}

/** A boolean as the ECS agent reads one (Go's ParseBool: true/false, t/f, 1/0, any case); default false. */
function parseBoolean(value: string | undefined, name: string): boolean {
  if (value === undefined || value.trim() === '') return false;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 't' || v === '1') return true;
  if (v === 'false' || v === 'f' || v === '0') return false;
  throw new ConfigError(`${name}: expected true or false, got '${value}'`);
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
