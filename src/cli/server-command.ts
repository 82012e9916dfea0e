import { Command, Option } from 'commander';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';
import { parseDuration } from '../agent/config.js';
import { CREDENTIALS_PROFILE } from '../api/auth/credentials.js';
import { installProcessPolicy } from '../process/policy.js';
import type { EtcdSettings, ServerConfig } from '../server/server.js';
import { parseListenAddress } from './listen-address.js';

export const DEFAULT_LISTEN = '127.0.0.1:7400';
export const DEFAULT_DATA_DIR = '/var/lib/berth';

interface ServerFlags {
  listen: string;
  dataDir: string;
  region: string;
  accountId: string;
  store: 'sqlite' | 'memory' | 'etcd';
  etcdEndpoints?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdPrefix?: string;
  etcdMaxTxnOps?: string;
  sharedDir?: string;
  replicaId?: string;
  logLevel: string;
  logFormat?: LogFormat;
  registryListen?: string;
  registryHost?: string;
  elbDnsDomain?: string;
  dnsListen?: string;
  dnsUpstream?: string;
  instanceLostAfter: string;
  targetTrackingPeriod?: string;
  metricsListen?: string;
  hostProvisioner?: string[];
  hostNetnsSubnet?: string;
  hostRegistrationTimeout?: string;
  managedScalingInterval?: string;
  managedScaleInAfter?: string;
  managedDrainingTimeout?: string;
}

/** Flags and environment → one validated ServerConfig; nothing else reads them. */
export function compileServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const { host, port } = parseListenAddress(flags.listen);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(flags.region)) throw new Error(`invalid region '${flags.region}'`);
  if (!/^\d{12}$/.test(flags.accountId)) throw new Error(`invalid account id '${flags.accountId}': 12 digits`);
  const etcd = flags.store === 'etcd' ? compileEtcd(flags, env) : undefined;
  if (flags.store === 'etcd' && flags.sharedDir === undefined) {
    throw new Error('--store etcd needs --shared-dir DIR: a directory every replica shares (registry blobs, log data, root credentials)');
  }
  if (flags.store !== 'etcd' && (flags.etcdEndpoints ?? flags.etcdCa ?? flags.etcdCert ?? flags.etcdKey ?? flags.etcdPrefix ?? flags.etcdMaxTxnOps) !== undefined) {
    throw new Error('--etcd-* flags need --store etcd');
  }
  if (flags.replicaId !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(flags.replicaId)) {
    throw new Error(`invalid replica id '${flags.replicaId}': letters, digits, '.', '_', ':' and '-', at most 128`);
  }
  return {
    host,
    port,
    dataDir: flags.dataDir,
    store: flags.store,
    ...(etcd ? { etcd } : {}),
    ...(flags.sharedDir !== undefined ? { sharedDir: flags.sharedDir } : {}),
    ...(flags.replicaId !== undefined ? { replicaId: flags.replicaId } : {}),
    region: flags.region,
    accountId: flags.accountId,
    logger: processLogger({ level: flags.logLevel, redact: ['req.headers.authorization'], format: flags.logFormat }),
    ...(flags.registryListen !== undefined ? { registryListen: parseListenAddress(flags.registryListen) } : {}),
    ...(flags.registryHost !== undefined ? parseRegistryHost(flags.registryHost) : {}),
    ...(flags.elbDnsDomain !== undefined ? { elbDnsDomain: parseDnsDomain(flags.elbDnsDomain) } : {}),
    instanceLostAfterMs: parseDuration(flags.instanceLostAfter, '--instance-lost-after'),
    ...(flags.dnsListen !== undefined ? { dnsListen: parseListenAddress(flags.dnsListen) } : {}),
    ...(flags.dnsUpstream !== undefined ? { dnsUpstreams: parseUpstreams(flags.dnsUpstream) } : {}),
    ...(flags.targetTrackingPeriod !== undefined ? { targetTrackingPeriodS: Number(flags.targetTrackingPeriod) } : {}),
    ...timeScaled(env.BERTH_TIME_SCALE, flags.targetTrackingPeriod),
    ...(flags.metricsListen !== undefined ? { metricsListen: parseListenAddress(flags.metricsListen) } : {}),
    ...hostProvisionersOf(flags),
    ...(flags.hostRegistrationTimeout !== undefined ? { hostRegistrationTimeoutMs: parseDuration(flags.hostRegistrationTimeout, '--host-registration-timeout') } : {}),
    ...managedScalingOf(flags),
  };
}

/** Managed scaling's timing flags (each optional; the server's defaults otherwise). */
function managedScalingOf(flags: ServerFlags): { managedScaling?: NonNullable<ServerConfig['managedScaling']> } {
  const settings = {
    ...(flags.managedScalingInterval !== undefined ? { passMs: parseDuration(flags.managedScalingInterval, '--managed-scaling-interval') } : {}),
    ...(flags.managedScaleInAfter !== undefined ? { scaleInAfterMs: parseDuration(flags.managedScaleInAfter, '--managed-scale-in-after') } : {}),
    ...(flags.managedDrainingTimeout !== undefined ? { drainTimeoutMs: parseDuration(flags.managedDrainingTimeout, '--managed-draining-timeout') } : {}),
  };
  return Object.keys(settings).length > 0 ? { managedScaling: settings } : {};
}

/** The factors BERTH_TIME_SCALE takes: a minute of 60, 30, 20, 10 or 5 s (periods GetMetricData serves). */
const TIME_SCALES = [1, 2, 3, 6, 12] as const;

/**
 * BERTH_TIME_SCALE (tests and demos only; docs/autoscaling.md "Test-only time scale"): a "minute" of the
 * metric-to-scaling chain lasts 60 / scale seconds — AWS/ECS utilization's period, target tracking's alarm period
 * and the alarm evaluation interval (10 s / scale) shrink together. Cooldowns, schedules and user alarms keep their
 * own values. Unset or 1: production behaviour, untouched.
 */
export function timeScaled(value: string | undefined, targetTrackingPeriod: string | undefined): Pick<ServerConfig, 'timeScale'> {
  if (value === undefined || value === '' || value === '1') return {};
  const scale = Number(value);
  if (!TIME_SCALES.includes(scale as never)) throw new Error(`BERTH_TIME_SCALE: '${value}' is not one of ${TIME_SCALES.join(', ')}`);
  if (targetTrackingPeriod !== undefined) throw new Error('BERTH_TIME_SCALE sets the target tracking period (60 / scale s): drop --target-tracking-period');
  return { timeScale: scale };
}

/**
 * `--host-provisioner netns` and `--host-provisioner NAME=PATH` (repeatable): the provisioners host groups'
 * launch configurations may name (ImageId `netns`, `command:NAME`); `--host-netns-subnet A.B.C.0/24` for netns.
 */
export function hostProvisionersOf(flags: Pick<ServerFlags, 'hostProvisioner' | 'hostNetnsSubnet'>): Pick<ServerConfig, 'hostProvisioners'> {
  const specs = flags.hostProvisioner ?? [];
  if (specs.length === 0) {
    if (flags.hostNetnsSubnet !== undefined) throw new Error('--host-netns-subnet needs --host-provisioner netns');
    return {};
  }
  const commands: Record<string, string> = {};
  let netns = false;
  for (const spec of specs) {
    if (spec === 'netns') {
      netns = true;
      continue;
    }
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})=(\/.+)$/.exec(spec);
    if (!m) throw new Error(`invalid --host-provisioner '${spec}': use netns or NAME=/absolute/path/to/executable`);
    commands[m[1]!] = m[2]!;
  }
  const subnet = flags.hostNetnsSubnet ?? '10.231.0.0/24';
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.test(subnet)) throw new Error(`invalid --host-netns-subnet '${subnet}': use A.B.C.0/24`);
  return { hostProvisioners: { ...(netns ? { netns: { subnet } } : {}), commands } };
}

/** `--etcd-endpoints` (or BERTH_ETCD_ENDPOINTS): comma-separated `http(s)://host:port`; TLS files and prefix. */
export function compileEtcd(
  flags: Pick<ServerFlags, 'etcdEndpoints' | 'etcdCa' | 'etcdCert' | 'etcdKey' | 'etcdPrefix' | 'etcdMaxTxnOps'>,
  env: NodeJS.ProcessEnv,
): EtcdSettings {
  const list = flags.etcdEndpoints ?? env.BERTH_ETCD_ENDPOINTS;
  if (!list) throw new Error('--store etcd needs --etcd-endpoints http://HOST:PORT[,...] (or BERTH_ETCD_ENDPOINTS)');
  const endpoints = list.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(e);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.port || (url.pathname !== '/' && url.pathname !== '')) {
      throw new Error(`invalid etcd endpoint '${e}': use http://HOST:PORT or https://HOST:PORT`);
    }
  }
  if (endpoints.length === 0) throw new Error('--etcd-endpoints is empty');
  if ((flags.etcdCert === undefined) !== (flags.etcdKey === undefined)) throw new Error('--etcd-cert and --etcd-key go together');
  const tls = flags.etcdCa !== undefined || flags.etcdCert !== undefined;
  if (tls && endpoints.some((e) => e.startsWith('http:'))) throw new Error('etcd TLS flags need https:// endpoints');
  return {
    endpoints: endpoints.map((e) => e.replace(/\/$/, '')),
    ...(flags.etcdCa !== undefined ? { ca: flags.etcdCa } : {}),
    ...(flags.etcdCert !== undefined ? { cert: flags.etcdCert } : {}),
    ...(flags.etcdKey !== undefined ? { key: flags.etcdKey } : {}),
    ...(flags.etcdPrefix !== undefined ? { prefix: flags.etcdPrefix } : {}),
    ...(flags.etcdMaxTxnOps !== undefined ? { maxTxnOps: parseMaxTxnOps(flags.etcdMaxTxnOps) } : {}),
  };
}

/** `--dns-upstream HOST[:PORT][,...]` (IPv6 in brackets): where the DNS server forwards other names. */
export function parseUpstreams(value: string): { host: string; port: number }[] {
  return value.split(',').map((part) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/.exec(part.trim());
    const port = m?.[3] === undefined ? 53 : Number(m[3]);
    if (!m || port < 1 || port > 65535) throw new Error(`invalid --dns-upstream '${part}': use IP[:PORT] (IPv6 as [IP]:PORT), comma-separated`);
    return { host: m[1] ?? m[2]!, port };
  });
}

/** `host[:port]`, optionally prefixed by `http://` or `https://` (the scheme of the login endpoint). */
/** A DNS domain for load balancers' names (`elb.example.com`): lower-case labels of letters, digits and hyphens. */
export function parseDnsDomain(value: string): string {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/.test(domain) || domain.length > 200) throw new Error(`invalid --elb-dns-domain '${value}'`);
  return domain;
}

export function parseRegistryHost(value: string): { registryHost: string; registryScheme: 'http' | 'https' } {
  const m = /^(?:(https?):\/\/)?((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?\/?$/.exec(value);
  if (!m || (m[3] !== undefined && Number(m[3].slice(1)) > 65535)) {
    throw new Error(`invalid registry host '${value}': use HOST[:PORT], optionally with http:// or https://`);
  }
  return { registryHost: `${m[2]}${m[3] ?? ''}`, registryScheme: (m[1] as 'http' | 'https' | undefined) ?? 'http' };
}

export function serverCommand(): Command {
  return new Command('server')
    .description('run the control plane: the ECS and ECR APIs (SigV4), the container registry (/v2/), state in the data directory')
    .option('--listen <host:port>', 'address to serve the API on', DEFAULT_LISTEN)
    .option('--data-dir <dir>', 'where state and generated credentials live', DEFAULT_DATA_DIR)
    .option('--region <region>', 'the AWS region berth answers as', process.env.AWS_DEFAULT_REGION ?? 'us-east-1')
    .option('--account-id <id>', 'the 12-digit account id in ARNs', '000000000000')
    .addOption(new Option('--store <kind>', 'state backend: sqlite (embedded), memory, or etcd (several replicas)').choices(['sqlite', 'memory', 'etcd']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'with --store etcd: http(s)://HOST:PORT[,...] (default BERTH_ETCD_ENDPOINTS)')
    .option('--etcd-ca <file>', 'with --store etcd: CA certificate (PEM) to trust for https endpoints')
    .option('--etcd-cert <file>', 'with --store etcd: client certificate (PEM)')
    .option('--etcd-key <file>', 'with --store etcd: client key (PEM)')
    .option('--etcd-max-txn-ops <n>', "with --store etcd: operations per transaction, as etcd's --max-txn-ops allows (default 128, etcd's own default)")
    .option('--etcd-prefix <prefix>', 'with --store etcd: prefix of every berth key (default berth/)')
    .option('--shared-dir <dir>', 'a directory every replica shares: registry blobs, log data, root credentials (required with --store etcd)')
    .option('--replica-id <id>', 'this replica\'s name in leader election and /healthz (default HOSTNAME:PORT)')
    .option('--registry-listen <host:port>', 'serve the container registry (/v2/) on its own address instead of the API\'s')
    .option('--elb-dns-domain <domain>', 'the domain of load balancers\' DNS names, <name>-<id>.<region>.elb.<domain> (default berth.internal)')
    .option('--dns-listen <host:port>', "serve Cloud Map's DNS namespaces on this address (UDP and TCP), forwarding other names upstream")
    .option('--dns-upstream <ip[:port],...>', 'with --dns-listen: resolvers for names outside the namespaces (default: the nameservers of /etc/resolv.conf)')
    .option('--metrics-listen <host:port>', "serve operators' metrics in the Prometheus text format at GET /metrics on this address (off by default)")
    .option('--registry-host <host[:port]>', 'the registry\'s name in repository URIs and docker login, when clients reach it by another name')
    .addOption(
      new Option('--target-tracking-period <seconds>', "the period of the alarms target-tracking policies create (AWS's is 60; 10 makes them high-resolution, for tests and demos)").choices([
        '10',
        '20',
        '30',
        '60',
      ]),
    )
    .option('--host-provisioner <spec>', "a provisioner host groups may launch hosts with: netns (simulated hosts on this machine) or NAME=PATH (an executable, ImageId command:NAME); repeatable", (v: string, all: string[] = []) => [...all, v])
    .option('--host-netns-subnet <cidr>', 'with --host-provisioner netns: the /24 of its hosts (default 10.231.0.0/24)')
    .option('--host-registration-timeout <duration>', "replace a provisioned host whose agent has not registered this long after its launch (default 5m)")
    .option('--managed-scaling-interval <duration>', "between managed scaling passes: CapacityProviderReservation computed and published, groups scaled (default 15s)")
    .option('--managed-scale-in-after <duration>', 'how long CapacityProviderReservation must stay under target before managed scaling scales in (default 15m, as ECS)')
    .option('--managed-draining-timeout <duration>', "how long managed draining holds an instance for its tasks to leave before it is terminated anyway (default 1h)")
    .option('--instance-lost-after <duration>', 'replace the service tasks of an instance whose agent has been disconnected this long (e.g. 30s, 5m)', '5m')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .addOption(logFormatOption())
    .action(async (flags: ServerFlags) => {
      const config = compileServerConfig(flags);
      installProcessPolicy({ log: config.logger! });
      // A failure to start (etcd unreachable, a missing flag) reaches main.ts: one line, exit status 1.
      // Loaded only for the command that runs (the agent's process never holds the server's modules).
      const { startServer } = await import('../server/server.js');
      const server = await startServer(config);
      const keys = server.rootKeys;
      const where =
        keys.source === 'environment'
          ? 'from BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY'
          : `in ${keys.file} (profile ${CREDENTIALS_PROFILE}${keys.source === 'generated' ? ', generated now' : ''})`;
      process.stderr.write(
        `berth server listening on ${server.url} (region ${config.region}, account ${config.accountId}, replica ${server.replicaId}, store ${config.store})\n` +
          `container registry at ${server.registryHost} (docker login --username AWS with aws ecr get-login-password)\n` +
          `web console at ${server.url}/ (sign in with the root key pair below, or an IAM user's)\n` +
          (server.dnsAddress ? `dns server on ${server.dnsAddress} (udp and tcp)\n` : '') +
          (server.metricsAddress ? `metrics at http://${server.metricsAddress}/metrics\n` : '') +
          `root credentials ${where}\n` +
          (keys.file
            ? `try: AWS_SHARED_CREDENTIALS_FILE=${keys.file} AWS_PROFILE=${CREDENTIALS_PROFILE} aws ecs list-clusters --region ${config.region} --endpoint-url ${server.url}\n`
            : ''),
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping\n`);
        await server.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

/** `--etcd-max-txn-ops`: what the etcd cluster was started with (its own default is 128). */
function parseMaxTxnOps(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16) throw new Error(`--etcd-max-txn-ops must be a whole number of at least 16 (got '${value}')`);
  return n;
}
