import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import { compileAgentConfig, DEFAULT_CONFIG_FILE, type AgentFlags } from '../agent/config.js';
import { installProcessPolicy } from '../process/policy.js';
import { logFormatOption, processLogger, type LogFormat } from './log-output.js';

/**
 * V8 flags `berth agent` sets for its own process, before its modules load (`berth up`, which shares a
 * process with the server, keeps V8's defaults). V8 reads both as it runs, so setting them here works as on
 * the command line, and only the agent pays for them:
 * - `--no-opt`: no TurboFan. The agent's work is waiting on processes, files and sockets; optimized code
 *   saves it little CPU, while the optimizing compiler's pages of node's binary, its zone memory and the
 *   optimized code were ~9 MiB of an agent's resident memory right after start-up.
 * - `--optimize-for-size`: V8's memory-saving heuristics (a smaller young generation, an old generation
 *   that grows in smaller steps between collections).
 * Figures (RSS with 50 running tasks, CPU per task start): docs/agent.md, "Footprint".
 */
export const AGENT_V8_FLAGS = '--no-opt --optimize-for-size';

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the host agent: register this host as a container instance and run the tasks placed on it (needs root)')
    .option('--endpoint <url>', 'the control plane: one URL, or its replicas comma-separated (ECS_BACKEND_HOST)')
    .option('--cluster <name>', 'the cluster to join (ECS_CLUSTER, default "default")')
    .option('--data-dir <dir>', 'where the agent keeps state, images and containers (ECS_DATADIR)')
    .option('--config <file>', `an ecs.config file (default ${DEFAULT_CONFIG_FILE} when it exists)`)
    .option('--region <region>', 'the region to sign requests for (AWS_DEFAULT_REGION)')
    .option('--cpu-units <n>', 'CPU units to register instead of 1024 × cores (BERTH_CPU_UNITS)')
    .option('--memory-mib <n>', 'memory to register instead of the host total (BERTH_MEMORY_MIB)')
    .option('--availability-zone <zone>', 'the ecs.availability-zone attribute (BERTH_AVAILABILITY_ZONE)')
    .option('--metrics-listen <host:port>', "serve operators' metrics (Prometheus text) at GET /metrics on this address (BERTH_METRICS_LISTEN; off by default)")
    .option('--fargate', "join the cluster's Fargate pool: run only FARGATE tasks, each under gVisor (BERTH_FARGATE)")
    .addOption(logFormatOption())
    .action(async ({ logFormat, ...flags }: AgentFlags & { logFormat?: LogFormat }) => {
      const config = compileAgentConfig({ flags });
      const log = processLogger({ level: config.logLevel === 'crit' ? 'fatal' : config.logLevel, format: logFormat });
      installProcessPolicy({ log });
      setFlagsFromString(AGENT_V8_FLAGS);
      // Loaded only for the command that runs: `berth agent` never holds the server's modules in memory.
      const [{ openHostParts }, { startAgent }] = await Promise.all([import('../agent/host-parts.js'), import('../agent/agent.js')]);
      const parts = await openHostParts(config);
      const agent = await startAgent({ config, parts, log });
      parts.startBackground(log);
      process.stderr.write(
        `berth agent registered ${agent.containerInstanceArn} in cluster ${config.cluster} at ${config.endpoints.join(', ')}\n` +
          (agent.metricsPort !== undefined ? `metrics on port ${agent.metricsPort} at /metrics\n` : ''),
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping the agent (containers keep running)\n`);
        await agent.stop();
        await parts.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
