import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { CREDENTIALS_PROFILE } from '../api/auth/credentials.js';
import { installProcessPolicy } from '../process/policy.js';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';
import { haproxyAvailable, startLbNode, type LbNode } from './lb-node.js';
import { defaultHostAddress, parseListenAddress } from './listen-address.js';
import { missingStorageCommands, startStorageNode, type StorageNode } from './storage-node.js';
import { DEFAULT_FARGATE_SHARE, upAgentConfigs } from './up-agents.js';
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN } from './server-command.js';
import { upStoragePlan } from './up-storage.js';

interface UpFlags {
  listen: string;
  dataDir: string;
  region: string;
  lbAddress: string;
  lb: boolean;
  storage: boolean;
  storageAddress?: string;
  fargate: boolean;
  fargateShare: string;
  dnsListen: string;
  logLevel: string;
  logFormat?: LogFormat;
}

/** `berth up`'s DNS server: loopback is enough, containers reach it through the agent's relay (src/agent/dns-relay.ts). */
export const DEFAULT_UP_DNS_LISTEN = '127.0.0.1:7453';

/**
 * `berth up`: a single-node cluster on this machine — the control plane, one agent, a load balancer node
 * (`berth lb`'s loop, serving the region's load balancers on --lb-address) and a storage host for EFS file systems
 * (`berth storage`'s loop: up-storage.ts) in one process.
 */
export function upCommand(): Command {
  return new Command('up')
    .description('run a single-node cluster on this machine: the control plane and an agent (needs root)')
    .option('--listen <host:port>', 'address of the API', DEFAULT_LISTEN)
    .option('--data-dir <dir>', 'everything berth keeps: the server state and credentials, and the agent under agent/', DEFAULT_DATA_DIR)
    .option('--region <region>', 'the AWS region berth answers as', process.env.AWS_DEFAULT_REGION ?? 'us-east-1')
    .option('--lb-address <ip>', "where load balancers' listeners are served", '127.0.0.1')
    .option('--no-lb', 'run no load balancer node (it needs HAProxy on PATH)')
    .option('--no-fargate', "run no Fargate pool agent (it needs gVisor's runsc on PATH)")
    .option('--no-storage', 'run no storage host for EFS file systems (it needs GlusterFS and bindfs on PATH)')
    .option('--storage-address <ip>', "where the storage host's glusterd is reached (not loopback: GlusterFS refuses it; default: the first non-loopback IPv4)")
    .option('--fargate-share <fraction>', "the Fargate pool host's share of this machine's CPU and memory; the EC2 agent registers the rest", String(DEFAULT_FARGATE_SHARE))
    .option('--dns-listen <host:port>', "serve Cloud Map's DNS namespaces here (containers reach it through the agent's relay on 169.254.170.2:53); off for none", DEFAULT_UP_DNS_LISTEN)
    .option('--log-level <level>', 'log level', 'info')
    .addOption(logFormatOption())
    .action(async (flags: UpFlags) => {
      const log = processLogger({ level: flags.logLevel, redact: ['req.headers.authorization'], format: flags.logFormat });
      installProcessPolicy({ log });
      const { host, port } = parseListenAddress(flags.listen);
      const [{ startServer }, { openHostParts }, { startAgent }] = await Promise.all([
        import('../server/server.js'),
        import('../agent/host-parts.js'),
        import('../agent/agent.js'),
      ]);
      const server = await startServer({
        host,
        port,
        dataDir: flags.dataDir,
        store: 'sqlite',
        region: flags.region,
        accountId: '000000000000',
        ...(flags.dnsListen !== 'off' ? { dnsListen: parseListenAddress(flags.dnsListen) } : {}),
        logger: log.child({ part: 'server' }),
      });
      const endpoint = server.url.replace('//0.0.0.0:', '//127.0.0.1:');
      const withPool = flags.fargate && runscAvailable();
      if (flags.fargate && !withPool) log.warn('runsc not found on PATH: no Fargate pool, FARGATE tasks have nowhere to run (scripts/install.sh installs it)');
      // The machine split between the EC2 agent and the Fargate pool host, so that together they promise no more than it has.
      const configs = upAgentConfigs({ endpoint, dataDir: flags.dataDir, region: flags.region, fargate: withPool, fargateShare: Number(flags.fargateShare) });
      const config = configs.ec2;
      const parts = await openHostParts(config);
      const keys = { accessKeyId: server.rootKeys.accessKeyId, secretAccessKey: server.rootKeys.secretAccessKey };
      const agent = await startAgent({ config, parts, log: log.child({ part: 'agent' }), credentials: keys });
      parts.startBackground(log.child({ part: 'agent' }));
      // The cluster's Fargate pool: a second agent on this machine, its tasks under gVisor (model/fargate-pool.ts).
      let fargate: { agent: { stop(): Promise<void> }; parts: { close(): Promise<void> } } | undefined;
      if (configs.fargate) {
        const poolParts = await openHostParts(configs.fargate);
        fargate = { agent: await startAgent({ config: configs.fargate, parts: poolParts, log: log.child({ part: 'fargate-agent' }), credentials: keys }), parts: poolParts };
      }
      // The storage host: EFS file systems' GlusterFS volumes, one brick each under the data dir.
      const storagePlan = upStoragePlan({
        dataDir: flags.dataDir,
        enabled: flags.storage,
        address: flags.storageAddress ?? defaultHostAddress(),
        availabilityZone: config.availabilityZone,
        missing: flags.storage ? missingStorageCommands() : [],
      });
      let storage: StorageNode | undefined;
      if (!storagePlan.run) {
        if (flags.storage) log.warn(storagePlan.reason);
      }
      else {
        const { run: _, ...where } = storagePlan;
        storage = await startStorageNode({ ...where, endpoint, region: flags.region, credentials: async () => keys, log: log.child({ part: 'storage' }) }).catch((error: Error) => {
          log.warn({ err: error.message, stateDir: where.stateDir }, 'the storage host did not start: EFS file systems stay creating');
          return undefined;
        });
      }
      let lb: LbNode | undefined;
      if (flags.lb && !haproxyAvailable()) log.warn('haproxy not found on PATH: load balancers are not served (scripts/install.sh --demo installs it)');
      else if (flags.lb) {
        lb = await startLbNode({
          endpoint,
          region: flags.region,
          credentials: async () => keys,
          address: flags.lbAddress,
          nodeId: 'berth-up',
          dataDir: join(flags.dataDir, 'lb'),
          log: log.child({ part: 'lb' }),
        });
      }
      const file = server.rootKeys.file;
      process.stderr.write(
        `berth is up: API on ${server.url}, cluster ${config.cluster} with ${agent.containerInstanceArn} (${config.cpuUnits} CPU units, ${config.memoryMib} MiB)` +
          (configs.fargate ? `, a Fargate pool host (${configs.fargate.cpuUnits} CPU units, ${configs.fargate.memoryMib} MiB)` : '') +
          (lb ? `, load balancers served on ${flags.lbAddress}` : '') +
          (storage && storagePlan.run ? `, a storage host for EFS on ${storagePlan.address} (bricks in ${storagePlan.brickDir})` : '') +
          (server.dnsAddress ? `, DNS on ${server.dnsAddress}` : '') +
          '\n' +
          (file
            ? `credentials: AWS_SHARED_CREDENTIALS_FILE=${file} AWS_PROFILE=${CREDENTIALS_PROFILE} AWS_DEFAULT_REGION=${flags.region}\n`
            : ''),
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping berth (containers, and the storage host's glusterd serving their EFS mounts, keep running and are re-adopted next time)\n`);
        await lb?.stop();
        await storage?.stop({ stopGlusterd: false });
        await fargate?.agent.stop();
        await fargate?.parts.close();
        await agent.stop();
        await parts.close();
        await server.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

function runscAvailable(): boolean {
  try {
    execFileSync('runsc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
