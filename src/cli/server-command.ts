import { Command, Option } from 'commander';
import { pino } from 'pino';
import { CREDENTIALS_PROFILE } from '../api/auth/credentials.js';
import { startServer, type ServerConfig } from '../server/server.js';
import { parseListenAddress } from './listen-address.js';

export const DEFAULT_LISTEN = '127.0.0.1:7400';
export const DEFAULT_DATA_DIR = '/var/lib/berth';

interface ServerFlags {
  listen: string;
  dataDir: string;
  region: string;
  accountId: string;
  store: 'sqlite' | 'memory';
  logLevel: string;
}

/** Flags and environment → one validated ServerConfig; nothing else reads them. */
export function compileServerConfig(flags: ServerFlags): ServerConfig {
  const { host, port } = parseListenAddress(flags.listen);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(flags.region)) throw new Error(`invalid region '${flags.region}'`);
  if (!/^\d{12}$/.test(flags.accountId)) throw new Error(`invalid account id '${flags.accountId}': 12 digits`);
  return {
    host,
    port,
    dataDir: flags.dataDir,
    store: flags.store,
    region: flags.region,
    accountId: flags.accountId,
    logger: pino({ level: flags.logLevel, redact: ['req.headers.authorization'] }),
  };
}

export function serverCommand(): Command {
  return new Command('server')
    .description('run the control plane: the ECS API, authenticated with SigV4, state in the data directory')
    .option('--listen <host:port>', 'address to serve the API on', DEFAULT_LISTEN)
    .option('--data-dir <dir>', 'where state and generated credentials live', DEFAULT_DATA_DIR)
    .option('--region <region>', 'the AWS region berth answers as', process.env.AWS_DEFAULT_REGION ?? 'us-east-1')
    .option('--account-id <id>', 'the 12-digit account id in ARNs', '000000000000')
    .addOption(new Option('--store <kind>', 'state backend').choices(['sqlite', 'memory']).default('sqlite'))
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .action(async (flags: ServerFlags) => {
      const config = compileServerConfig(flags);
      const server = await startServer(config);
      const keys = server.rootKeys;
      const where =
        keys.source === 'environment'
          ? 'from BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY'
          : `in ${keys.file} (profile ${CREDENTIALS_PROFILE}${keys.source === 'generated' ? ', generated now' : ''})`;
      process.stderr.write(
        `berth server listening on ${server.url} (region ${config.region}, account ${config.accountId})\n` +
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
