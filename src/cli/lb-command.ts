import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';
import { installProcessPolicy } from '../process/policy.js';
import { haproxyAvailable, startLbNode } from './lb-node.js';
import { defaultHostAddress, parseListenAddress } from './listen-address.js';

interface LbFlags {
  readonly endpoint: string;
  readonly address?: string;
  readonly nodeId?: string;
  readonly region?: string;
  readonly dataDir: string;
  readonly intervalMs: string;
  readonly logLevel: string;
  readonly logFormat?: LogFormat;
  readonly metricsListen?: string;
  readonly trafficReportInterval: string;
}

/** `--traffic-report-interval`: whole seconds, 1 to 3600. */
export function parseTrafficReportInterval(value: string): number {
  const s = Number(value);
  if (!/^\d+$/.test(value) || s < 1 || s > 3600) throw new Error(`invalid --traffic-report-interval '${value}': whole seconds from 1 to 3600`);
  return s * 1000;
}

/**
 * `berth lb`: the load balancer data plane on this host. It follows the region's load balancers through the
 * ELBv2 API, serves every active one's HTTP and TCP listeners on ADDR:<listener port> with a local HAProxy (from
 * PATH), and reports target health and its address back (BerthLoadBalancerNode). Instance targets go to their
 * container instance's `berth.host-address` (read with the ECS API: ListClusters, ListContainerInstances,
 * DescribeContainerInstances). Credentials come from the AWS
 * SDK's chain, as the agent's do.
 */
export function lbCommand(): Command {
  return new Command('lb')
    .description("serve the region's load balancers on this host with HAProxy, following the ELBv2 API")
    .requiredOption('--endpoint <url>', 'the control plane (the ELBv2 API)')
    .option('--address <addr>', "the address listeners are served on and reported at (default: the host's first non-loopback IPv4)")
    .option('--node-id <id>', 'this node in reports (default: the host name)')
    .option('--region <region>', 'the region to sign requests for (AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)')
    .option('--data-dir <dir>', "HAProxy's config, sockets and state (keep it short: unix socket paths)", '/var/lib/berth/lb')
    .addOption(new Option('--interval-ms <ms>', 'how often the API is read').default('1000').hideHelp())
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option('--metrics-listen <host:port>', "serve HAProxy's counters (Prometheus text, berth_haproxy_*) at GET /metrics on this address (off by default)")
    .option('--traffic-report-interval <seconds>', "how often request counts and response codes are reported for CloudWatch's AWS/ApplicationELB metrics (ALB's period is 60; shorter for tests and demos)", '60')
    .addOption(logFormatOption())
    .action(async (flags: LbFlags) => {
      const log = processLogger({ level: flags.logLevel, format: flags.logFormat });
      installProcessPolicy({ log });
      if (!haproxyAvailable()) throw new Error("haproxy not found on PATH: berth lb needs Debian's haproxy 2.6 (scripts/install.sh installs it)");
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const address = flags.address ?? defaultHostAddress();
      const nodeId = flags.nodeId ?? hostname();
      const trafficReportMs = parseTrafficReportInterval(flags.trafficReportInterval);
      const node = await startLbNode({
        endpoint: flags.endpoint,
        region,
        credentials: defaultProvider(),
        address,
        nodeId,
        dataDir: flags.dataDir,
        log,
        intervalMs: Number(flags.intervalMs),
        trafficReportMs,
        ...(flags.metricsListen !== undefined ? { metricsListen: parseListenAddress(flags.metricsListen) } : {}),
      });
      process.stderr.write(
        `berth lb ${nodeId} serving on ${address}, following ${flags.endpoint}\n` + (node.metricsPort !== undefined ? `metrics on port ${node.metricsPort} at /metrics\n` : ''),
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping berth lb (HAProxy stops with it)\n`);
        await node.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
