import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { background } from '../process/background.js';
import { installProcessPolicy } from '../process/policy.js';
import { defaultHostAddress } from './listen-address.js';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';

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
      const [{ defaultProvider }, { Glusterd, GLUSTERD_TLS_DIR }, { storageReportsClient }, { storageTick }, { certificateRequest, installCertificate }] = await Promise.all([
        import('@aws-sdk/credential-provider-node'),
        import('../storage/glusterd.js'),
        import('../storage/storage-reports.js'),
        import('../storage/storage-follower.js'),
        import('../storage/tls-identity.js'),
      ]);
      const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const address = flags.address ?? defaultHostAddress();
      const brickDir = resolve(flags.brickDir);
      mkdirSync(brickDir, { recursive: true });
      const identity = { hostId: flags.hostId ?? `storage-${address}`, address, brickDir, availabilityZone: flags.availabilityZone };
      const client = storageReportsClient({ endpoint: flags.endpoint, region, credentials: defaultProvider() });
      // The bricks' TLS identity (every volume is served over TLS, docs/storage.md), in place before any brick starts;
      // a fresh certificate at every start. Inside glusterd's namespace the directory is GLUSTERD_TLS_DIR.
      const tlsDir = join(resolve(flags.stateDir), 'lib', 'berth-tls');
      const csr = await certificateRequest(tlsDir);
      for (;;) {
        try {
          await installCertificate(tlsDir, await client.issueCertificate(identity.hostId, csr));
          break;
        } catch (error) {
          // The control plane may still be starting (a host and its control plane started together).
          log.warn({ err: (error as Error).message }, 'no TLS certificate from the control plane yet; asking again');
          await new Promise((r) => setTimeout(r, 2_000));
        }
      }
      log.info({ dir: GLUSTERD_TLS_DIR }, 'TLS certificate issued by the control plane');
      const glusterd = await Glusterd.start(resolve(flags.stateDir));
      const report = client.report;
      process.stderr.write(`berth storage ${identity.hostId} (glusterd pid ${glusterd.pid}) on ${address} in ${identity.availabilityZone}, following ${flags.endpoint}\n`);
      let running: Promise<void> | undefined;
      let last: Awaited<ReturnType<typeof storageTick>> | undefined;
      const timer = setInterval(() => {
        running ??= background(log, 'storage tick', async () => {
          const answer = await storageTick(identity, glusterd, report, log, last);
          if (answer.PoolLeader !== last?.PoolLeader) log.info({ poolLeader: answer.PoolLeader === true }, answer.PoolLeader ? 'leading the storage pool' : 'following the storage pool leader');
          last = answer;
        }).finally(() => (running = undefined));
      }, Number(flags.intervalMs));
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(timer);
        await running;
        await glusterd.stop();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
    });
}
