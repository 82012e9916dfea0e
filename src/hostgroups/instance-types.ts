/**
 * The sizes a launch configuration's InstanceType may name: what the new host's agent registers as its CPU units
 * and memory (BERTH_CPU_UNITS, BERTH_MEMORY_MIB). berth has no EC2 catalogue; these are its own, named as the
 * agent names a host it sized itself (`berth.<vCPUs>cpu.<MiB>mib`, accepted too for any size) plus short names.
 */
export interface InstanceSize {
  readonly cpuUnits: number;
  readonly memoryMib: number;
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceSize>> = {
  'berth.nano': { cpuUnits: 512, memoryMib: 512 },
  'berth.micro': { cpuUnits: 1024, memoryMib: 1024 },
  'berth.small': { cpuUnits: 1024, memoryMib: 2048 },
  'berth.medium': { cpuUnits: 2048, memoryMib: 4096 },
  'berth.large': { cpuUnits: 2048, memoryMib: 8192 },
  'berth.xlarge': { cpuUnits: 4096, memoryMib: 16384 },
  'berth.2xlarge': { cpuUnits: 8192, memoryMib: 32768 },
};

const SPELLED = /^berth\.(\d+(?:\.\d+)?)cpu\.(\d+)mib$/;

/** The size `type` names, or undefined when it names none. */
export function instanceSize(type: string): InstanceSize | undefined {
  if (Object.hasOwn(INSTANCE_TYPES, type)) return INSTANCE_TYPES[type];
  const m = SPELLED.exec(type);
  if (!m) return undefined;
  const cpuUnits = Math.round(Number(m[1]) * 1024);
  const memoryMib = Number(m[2]);
  return cpuUnits >= 128 && memoryMib >= 128 ? { cpuUnits, memoryMib } : undefined;
}
