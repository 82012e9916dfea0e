import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../agent/config.js';
import { splitMachine, upAgentConfigs } from './up-agents.js';

const noFile = () => undefined;
const inputs = { endpoint: 'http://127.0.0.1:7400', dataDir: '/var/lib/berth', region: 'us-east-1', readFile: noFile };

describe("berth up's agents", () => {
  it('split the machine so that the EC2 agent and the Fargate pool host together register exactly what it has', () => {
    const { ec2, fargate } = upAgentConfigs({ ...inputs, fargate: true, fargateShare: 0.5, env: { BERTH_CPU_UNITS: '2048', BERTH_MEMORY_MIB: '24105' } });
    expect({ cpu: ec2.cpuUnits, memory: ec2.memoryMib, fargate: ec2.fargate }).toEqual({ cpu: 1024, memory: 12053, fargate: false });
    expect({ cpu: fargate!.cpuUnits, memory: fargate!.memoryMib, fargate: fargate!.fargate }).toEqual({ cpu: 1024, memory: 12052, fargate: true });
    expect(ec2.cpuUnits + fargate!.cpuUnits).toBe(2048);
    expect(ec2.memoryMib + fargate!.memoryMib).toBe(24105);
    // Each its own data directory, bridge and metadata address.
    expect(ec2.dataDir).toBe('/var/lib/berth/agent');
    expect(fargate!.dataDir).toBe('/var/lib/berth/agent-fargate');
    expect(fargate!.bridgeName).not.toBe(ec2.bridgeName);
    expect(fargate!.metadataAddress).not.toEqual(ec2.metadataAddress);
  });

  it("split this machine's own size when the environment names none", () => {
    const { ec2, fargate } = upAgentConfigs({ ...inputs, fargate: true, fargateShare: 0.25, env: {} });
    const cores = os.cpus().length;
    const mib = Math.floor(os.totalmem() / 1024 / 1024);
    expect(ec2.cpuUnits + fargate!.cpuUnits).toBe(1024 * cores);
    expect(ec2.memoryMib + fargate!.memoryMib).toBe(mib);
    expect(fargate!.cpuUnits).toBe(Math.floor(1024 * cores * 0.25));
  });

  it('give the EC2 agent the whole machine when there is no Fargate pool', () => {
    const { ec2, fargate } = upAgentConfigs({ ...inputs, fargate: false, fargateShare: 0.5, env: { BERTH_CPU_UNITS: '2048', BERTH_MEMORY_MIB: '4096' } });
    expect(fargate).toBeUndefined();
    expect({ cpu: ec2.cpuUnits, memory: ec2.memoryMib }).toEqual({ cpu: 2048, memory: 4096 });
  });

  it('refuse a share that leaves one of them nothing', () => {
    for (const share of [0, 1, -0.5, Number.NaN]) expect(() => splitMachine({ cpuUnits: 2048, memoryMib: 4096 }, share)).toThrow(ConfigError);
    expect(() => splitMachine({ cpuUnits: 1, memoryMib: 4096 }, 0.5)).toThrow(/leaves one of the two agents nothing/);
  });
});
