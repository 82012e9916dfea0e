import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { installProcessPolicy } from '../process/policy.js';
import { defaultHostAddress } from './listen-address.js';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';
import { startStorageNode } from './storage-node.js';

interface StorageFlags {
  readonly endpoint: string;
  readonly brickDir: string;
  readonly availabilityZone: string;
  readonly address?: string;
  readonly hostId?: string;
  readonly stateDir: string;
  readonly region?: string;
  readonly intervalMs: string;
  readonly logLevel: string;
  readonly logFormat?: LogFormat;
}

/**
 * `berth storage`: a storage host for EFS file systems. It runs a glusterd of its own (state under --state-dir, in a
 * private mount namespace: src/storage/glusterd.ts), registers with the control plane and reports every second
 * (BerthStorageNode), and, while it leads the trusted pool, creates, starts and deletes the volumes the control plane
 * places. Bricks go under --brick-dir. Credentials come from the AWS SDK's chain, as the agent's do.
 */
export function storageCommand(): Command {
  return new Command('storage')
    .description('serve EFS file systems from this host: glusterd with bricks under --brick-dir, following the control plane')
    .requiredOption('--endpoint <url>', 'the control plane')
    .requiredOption('--brick-dir <dir>', "where this host's bricks of file system volumes live")
    .option('--availability-zone <zone>', "this host's availability zone", 'us-east-1a')
    .option('--address <addr>', "the address other storage hosts and clients reach this host's glusterd on (default: the first non-loopback IPv4)")
    .option('--host-id <id>', 'this storage host in reports (default: storage-<address>)')
    .option('--state-dir <dir>', "glusterd's own state (its /var/lib/glusterd, /run and logs)", '/var/lib/berth/storage')
    .option('--region <region>', 'the region to sign requests for (AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)')
    .addOption(new Option('--interval-ms <ms>', 'how often the host reports').default('1000').hideHelp())
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .addOption(logFormatOption())
    .action(async (flags: StorageFlags) => {
      const log = processLogger({ level: flags.logLevel, format: flags.logFormat });
      installProcessPolicy({ log });
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const address = flags.address ?? defaultHostAddress();
      const hostId = flags.hostId ?? `storage-${address}`;
      const node = await startStorageNode({
        endpoint: flags.endpoint,
        region,
        credentials: defaultProvider(),
        hostId,
        address,
        brickDir: resolve(flags.brickDir),
        stateDir: resolve(flags.stateDir),
        availabilityZone: flags.availabilityZone,
        log,
        intervalMs: Number(flags.intervalMs),
      });
      process.stderr.write(`berth storage ${hostId} (glusterd pid ${node.glusterdPid}) on ${address} in ${flags.availabilityZone}, following ${flags.endpoint}\n`);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await node.stop();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
    });
}
