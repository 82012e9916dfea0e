import { spawn } from 'node:child_process';
import type { HostProvisioner, HostRequest } from './provisioner.js';

/**
 * The `command` provisioner: an executable the operator supplies (a wrapper around their cloud's CLI, a VM
 * manager, an IPMI script), run as
 *
 *   PATH create INSTANCE_ID     with the host's ecs.config on stdin, and BERTH_INSTANCE_ID, BERTH_GROUP_NAME,
 *                               BERTH_AVAILABILITY_ZONE, BERTH_INSTANCE_TYPE, BERTH_CPU_UNITS, BERTH_MEMORY_MIB,
 *                               BERTH_CLUSTER in its environment
 *   PATH terminate INSTANCE_ID
 *
 * Exit 0 is success; anything else fails the call with the end of its stderr (the activity's StatusMessage). A
 * call running past the timeout is killed and failed. Both must be idempotent for an instance id (provisioner.ts).
 */
export interface CommandProvisionerOptions {
  readonly path: string;
  /** Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export function commandProvisioner(options: CommandProvisionerOptions): HostProvisioner {
  const run = (args: string[], env: Record<string, string>, stdin: string) => runCommand(options, args, env, stdin);
  return {
    create: (host: HostRequest) =>
      run(
        ['create', host.instanceId],
        {
          BERTH_INSTANCE_ID: host.instanceId,
          BERTH_GROUP_NAME: host.groupName,
          BERTH_AVAILABILITY_ZONE: host.availabilityZone,
          BERTH_INSTANCE_TYPE: host.instanceType,
          BERTH_CPU_UNITS: String(host.cpuUnits),
          BERTH_MEMORY_MIB: String(host.memoryMib),
          BERTH_CLUSTER: host.cluster,
        },
        host.ecsConfig,
      ),
    terminate: (instanceId) => run(['terminate', instanceId], { BERTH_INSTANCE_ID: instanceId }, ''),
  };
}

function runCommand(options: CommandProvisionerOptions, args: string[], env: Record<string, string>, stdin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.path, args, { env: { ...(options.env ?? process.env), ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${options.path} ${args[0]}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${options.path} ${args.join(' ')} ${signal ? `was killed (${signal})` : `exited ${code}`}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    });
    // A command that does not read its stdin closes the pipe early: that is not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}
