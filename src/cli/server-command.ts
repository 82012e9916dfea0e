import { Command, Option } from 'commander';
import { pino } from 'pino';
import { parseDuration } from '../agent/config.js';
import { CREDENTIALS_PROFILE } from '../api/auth/credentials.js';
import { installProcessPolicy } from '../process/policy.js';
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
  registryListen?: string;
  registryHost?: string;
  instanceLostAfter: string;
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
    ...(flags.registryListen !== undefined ? { registryListen: parseListenAddress(flags.registryListen) } : {}),
    ...(flags.registryHost !== undefined ? parseRegistryHost(flags.registryHost) : {}),
    instanceLostAfterMs: parseDuration(flags.instanceLostAfter, '--instance-lost-after'),
  };
}

/** `host[:port]`, optionally prefixed by `http://` or `https://` (the scheme of the login endpoint). */
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
    .addOption(new Option('--store <kind>', 'state backend').choices(['sqlite', 'memory']).default('sqlite'))
    .option('--registry-listen <host:port>', 'serve the container registry (/v2/) on its own address instead of the API\'s')
    .option('--registry-host <host[:port]>', 'the registry\'s name in repository URIs and docker login, when clients reach it by another name')
    .option('--instance-lost-after <duration>', 'replace the service tasks of an instance whose agent has been disconnected this long (e.g. 30s, 5m)', '5m')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
    .action(async (flags: ServerFlags) => {
      const config = compileServerConfig(flags);
      installProcessPolicy({ log: config.logger! });
      const server = await startServer(config);
      const keys = server.rootKeys;
      const where =
        keys.source === 'environment'
          ? 'from BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY'
          : `in ${keys.file} (profile ${CREDENTIALS_PROFILE}${keys.source === 'generated' ? ', generated now' : ''})`;
      process.stderr.write(
        `berth server listening on ${server.url} (region ${config.region}, account ${config.accountId})\n` +
          `container registry at ${server.registryHost} (docker login --username AWS with aws ecr get-login-password)\n` +
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
