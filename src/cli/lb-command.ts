import { execFileSync } from 'node:child_process';
import { hostname, networkInterfaces } from 'node:os';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { background } from '../process/background.js';
import { installProcessPolicy } from '../process/policy.js';

/**
 * How long a replaced HAProxy may finish its requests: past the keep-alive timeout (60 s), after which its idle
 * client connections have closed by themselves; what is left is then killed.
 */
const STALE_GRACE_MS = 65_000;

interface LbFlags {
  readonly endpoint: string;
  readonly address?: string;
  readonly nodeId?: string;
  readonly region?: string;
  readonly dataDir: string;
  readonly intervalMs: string;
  readonly logLevel: string;
}

/** The host's first non-internal IPv4 address (what other hosts reach it on), else loopback. */
function defaultAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  return '127.0.0.1';
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
    .action(async (flags: LbFlags) => {
      const log = pino({ level: flags.logLevel });
      installProcessPolicy({ log });
      // Loaded only for the command that runs.
      const [{ ElasticLoadBalancingV2Client }, { ECSClient }, { defaultProvider }, { LbDriver }, { LbFollower }, { nodeReportsClient }, { findStaleHaproxy, retireStaleHaproxy, stopStaleHaproxy }, { InstanceAddresses }] = await Promise.all([
        import('@aws-sdk/client-elastic-load-balancing-v2'),
        import('@aws-sdk/client-ecs'),
        import('@aws-sdk/credential-provider-node'),
        import('../lb/lb-driver.js'),
        import('../lb/follower.js'),
        import('../lb/node-reports.js'),
        import('../lb/stale-haproxy.js'),
        import('../lb/instance-addresses.js'),
      ]);
      // Without HAProxy the node could only fail every tick: say so once and stop.
      try {
        execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
      } catch {
        throw new Error("haproxy not found on PATH: berth lb needs Debian's haproxy 2.6 (scripts/install.sh installs it)");
      }
      const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const address = flags.address ?? defaultAddress();
      const nodeId = flags.nodeId ?? hostname();
      const credentials = defaultProvider();
      const clientOptions = {
        endpoint: flags.endpoint,
        region,
        credentials,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
      };
      const elb = new ElasticLoadBalancingV2Client(clientOptions);
      // Instance targets' host addresses: the container instances' berth.host-address, through the ECS API.
      const ecs = new ECSClient(clientOptions);
      // An HAProxy a killed berth lb left serving is replaced without a gap: the new one takes its listening sockets,
      // then it is soft-stopped; one that does not answer on its admin socket is killed first.
      const stale = await findStaleHaproxy(flags.dataDir);
      const killed = stale ? [] : await stopStaleHaproxy(flags.dataDir);
      if (killed.length > 0) log.warn({ pids: killed }, 'stopped the HAProxy a previous berth lb left running; starting afresh');
      const driver = new LbDriver({ dir: flags.dataDir, bindAddress: address, log: log.child({ component: 'haproxy' }), ...(stale ? { takeOverFrom: stale.workers } : {}) });
      const follower = new LbFollower({
        elb,
        reports: nodeReportsClient({ endpoint: flags.endpoint, region, credentials }),
        driver,
        address,
        nodeId,
        log,
        intervalMs: Number(flags.intervalMs),
        instances: new InstanceAddresses({ ecs }),
      });
      await follower.start();
      if (stale) {
        log.warn({ master: stale.master, workers: stale.workers }, 'took over the listeners of the HAProxy a previous berth lb left running; it finishes its requests and stops');
        void background(log, 'retire the previous HAProxy', () => retireStaleHaproxy(stale, STALE_GRACE_MS));
      }
      process.stderr.write(`berth lb ${nodeId} serving on ${address}, following ${flags.endpoint}\n`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping berth lb (HAProxy stops with it)\n`);
        await follower.stop();
        // A replaced HAProxy still finishing its requests goes with this process (nothing would stop it after).
        if (stale) await retireStaleHaproxy(stale, 0);
        elb.destroy();
        ecs.destroy();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
