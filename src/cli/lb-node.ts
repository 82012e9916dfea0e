import { execFileSync } from 'node:child_process';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from 'pino';
import { background } from '../process/background.js';
import { serveMetrics, type MetricsListener } from '../process/metrics-listener.js';
import { MetricsRegistry } from '../process/prometheus.js';

/**
 * How long a replaced HAProxy may finish its requests: past the keep-alive timeout (60 s), after which its idle
 * client connections have closed by themselves; what is left is then killed.
 */
const STALE_GRACE_MS = 65_000;

export interface LbNodeOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Where listeners are bound and what DescribeLoadBalancers shows. */
  readonly address: string;
  readonly nodeId: string;
  /** HAProxy's config, sockets and state (short: unix socket paths). */
  readonly dataDir: string;
  readonly log: Logger;
  readonly intervalMs?: number;
  /** How often traffic is reported for `AWS/ApplicationELB` (default 60 s, ALB's period; shorter for tests and demos). */
  readonly trafficReportMs?: number;
  /** Serve HAProxy's counters (`berth_haproxy_*`, Prometheus text) at `GET /metrics` on this address (`--metrics-listen`). */
  readonly metricsListen?: { readonly host: string; readonly port: number };
}

/** A running load balancer node (`berth lb`, or the one `berth up` runs). */
export interface LbNode {
  /** The port of the metrics listener, when `metricsListen` was given. */
  readonly metricsPort?: number;
  stop(): Promise<void>;
}

/** Whether HAProxy is on PATH (a node without it could only fail every tick). */
export function haproxyAvailable(): boolean {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a load balancer node: replaces a HAProxy a killed predecessor left in `dataDir` (its listening sockets
 * taken over, then it is soft-stopped: stale-haproxy.ts), then follows the region's
 * load balancers through the ELBv2 API (instance targets' addresses through the ECS API) and serves them with a
 * local HAProxy. Resolves once the first tick has run.
 */
export async function startLbNode(options: LbNodeOptions): Promise<LbNode> {
  // Loaded only by the commands that run a node.
  const [{ ElasticLoadBalancingV2Client }, { ECSClient }, { LbDriver }, { LbFollower }, { nodeReportsClient }, { findStaleHaproxy, retireStaleHaproxy, stopStaleHaproxy }, { InstanceAddresses }, { haproxyMetrics }, { runtimeCommand }, { TrafficReporter }] = await Promise.all([
    import('@aws-sdk/client-elastic-load-balancing-v2'),
    import('@aws-sdk/client-ecs'),
    import('../lb/lb-driver.js'),
    import('../lb/follower.js'),
    import('../lb/node-reports.js'),
    import('../lb/stale-haproxy.js'),
    import('../lb/instance-addresses.js'),
    import('../lb/haproxy-metrics.js'),
    import('../lb/haproxy-runtime.js'),
    import('../lb/traffic-reporter.js'),
  ]);
  const { endpoint, region, credentials, address, nodeId, log } = options;
  const clientOptions = {
    endpoint,
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
  const stale = await findStaleHaproxy(options.dataDir);
  const killed = stale ? [] : await stopStaleHaproxy(options.dataDir);
  if (killed.length > 0) log.warn({ pids: killed }, 'stopped the HAProxy a previous berth lb left running; starting afresh');
  const reports = nodeReportsClient({ endpoint, region, credentials });
  // AWS/ApplicationELB: HAProxy's counters, per served target group, reported every period (and read just before a
  // reload or a server's deletion restarts them). The closures reach the driver and follower made just below.
  const traffic = new TrafficReporter({
    read: (): Promise<string> => runtimeCommand(driver.process.paths.adminSocket, 'show info;show stat', 5_000),
    groups: () => follower.servedAlbGroups(),
    reports,
    nodeId,
    log,
  });
  const driver = new LbDriver({
    dir: options.dataDir,
    bindAddress: address,
    log: log.child({ component: 'haproxy' }),
    ...(stale ? { takeOverFrom: stale.workers } : {}),
    beforeCountersReset: (): Promise<void> => traffic.beforeCountersReset(),
  });
  const follower = new LbFollower({
    elb,
    reports,
    driver,
    address,
    nodeId,
    log,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    instances: new InstanceAddresses({ ecs }),
  });
  await follower.start();
  const reporting = traffic.start(options.trafficReportMs);
  let metrics: MetricsListener | undefined;
  if (options.metricsListen) {
    const registry = new MetricsRegistry();
    // The driver's current HAProxy (a restart replaces the process, and its socket with it).
    haproxyMetrics(registry, () => runtimeCommand(driver.process.paths.adminSocket, 'show stat', 2_000));
    try {
      metrics = await serveMetrics(registry, options.metricsListen.host, options.metricsListen.port, (err) => log.error({ err }, 'collecting metrics failed'));
    } catch (error) {
      // A taken port fails the start: the HAProxy already started goes with it.
      await reporting.stop();
      await follower.stop();
      elb.destroy();
      ecs.destroy();
      throw error;
    }
  }
  if (stale) {
    log.warn({ master: stale.master, workers: stale.workers }, 'took over the listeners of the HAProxy a previous berth lb left running; it finishes its requests and stops');
    void background(log, 'retire the previous HAProxy', () => retireStaleHaproxy(stale, STALE_GRACE_MS));
  }
  return {
    ...(metrics ? { metricsPort: metrics.port } : {}),
    async stop() {
      await metrics?.close();
      await reporting.stop();
      // What was served since the last report goes out before HAProxy stops: a clean stop loses (almost) nothing.
      await traffic.reportOnce().catch((err: unknown) => log.warn({ err }, 'the last traffic report before stopping failed'));
      await follower.stop();
      // A replaced HAProxy still finishing its requests goes with this node (nothing would stop it after).
      if (stale) await retireStaleHaproxy(stale, 0);
      elb.destroy();
      ecs.destroy();
    },
  };
}
