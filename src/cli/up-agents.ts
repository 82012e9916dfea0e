import { join } from 'node:path';
import { compileAgentConfig, ConfigError, type AgentConfig, type CompileInputs } from '../agent/config.js';

/**
 * The agents `berth up` runs on this one machine: the EC2 agent and, with gVisor, the Fargate pool agent. Each
 * registers the CPU and memory it is given, so the two together must not promise more than the machine has:
 * the machine's size (BERTH_CPU_UNITS / BERTH_MEMORY_MIB, else its cores × 1024 and its memory) is split, the
 * pool getting `fargateShare` of it and the EC2 agent the rest. Without a pool the EC2 agent has it all. Pure
 * but for the agent config's own defaults (os.cpus, os.totalmem) when the environment names no size.
 */
export interface UpAgentsInputs {
  readonly endpoint: string;
  readonly dataDir: string;
  readonly region: string;
  /** Whether a Fargate pool agent runs (--no-fargate, or no runsc: none). */
  readonly fargate: boolean;
  /** The pool's share of the machine, strictly between 0 and 1 (--fargate-share). */
  readonly fargateShare: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly readFile?: CompileInputs['readFile'];
}

/** The default share of the machine `berth up` gives its Fargate pool host. */
export const DEFAULT_FARGATE_SHARE = 0.5;

export interface Size {
  readonly cpuUnits: number;
  readonly memoryMib: number;
}

/** `machine` split in two: the pool's `share` (whole units, rounded down) and the rest. Pure. */
export function splitMachine(machine: Size, share: number): { ec2: Size; fargate: Size } {
  if (!(share > 0 && share < 1)) throw new ConfigError(`--fargate-share: expected a fraction between 0 and 1, got ${share}`);
  const fargate = { cpuUnits: Math.floor(machine.cpuUnits * share), memoryMib: Math.floor(machine.memoryMib * share) };
  if (fargate.cpuUnits < 1 || fargate.memoryMib < 1 || fargate.cpuUnits >= machine.cpuUnits || fargate.memoryMib >= machine.memoryMib) {
    throw new ConfigError(`--fargate-share ${share} leaves one of the two agents nothing of ${machine.cpuUnits} CPU units and ${machine.memoryMib} MiB`);
  }
  return { ec2: { cpuUnits: machine.cpuUnits - fargate.cpuUnits, memoryMib: machine.memoryMib - fargate.memoryMib }, fargate };
}

/** The configs of `berth up`'s agents. */
export function upAgentConfigs(inputs: UpAgentsInputs): { ec2: AgentConfig; fargate?: AgentConfig } {
  const env = inputs.env ?? process.env;
  const base = { endpoint: inputs.endpoint, region: inputs.region };
  const compile = (flags: Parameters<typeof compileAgentConfig>[0]['flags'], extraEnv: NodeJS.ProcessEnv = {}) =>
    compileAgentConfig({ flags, env: { ...env, ...extraEnv }, ...(inputs.readFile ? { readFile: inputs.readFile } : {}) });
  const whole = compile({ ...base, dataDir: join(inputs.dataDir, 'agent') });
  if (!inputs.fargate) return { ec2: whole };
  const split = splitMachine(whole, inputs.fargateShare);
  const sized = (s: Size) => ({ cpuUnits: String(s.cpuUnits), memoryMib: String(s.memoryMib) });
  return {
    ec2: compile({ ...base, dataDir: join(inputs.dataDir, 'agent'), ...sized(split.ec2) }),
    // Its own bridge and link-local address; the per-host Service Connect proxy and operators' metrics are
    // left to the EC2 agent.
    fargate: compile(
      { ...base, dataDir: join(inputs.dataDir, 'agent-fargate'), fargate: true, ...sized(split.fargate) },
      {
        BERTH_BRIDGE_NAME: 'berthf0',
        BERTH_BRIDGE_SUBNET: '172.29.0.0/16',
        // An address of its own for its metadata endpoint and DNS relay (which answers only its own bridge).
        BERTH_METADATA_ADDRESS: '169.254.170.4:80',
        BERTH_SERVICE_CONNECT_ADDRESS: 'off',
        BERTH_METRICS_LISTEN: '',
      },
    ),
  };
}
