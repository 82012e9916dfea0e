import { clientError } from '../errors.js';

/**
 * Task-level `cpu` and `memory` are strings: CPU units ("1024") or vCPUs ("1 vCPU", "0.25 vcpu"); MiB
 * ("2048") or GB ("2GB", "0.5 GB"). ECS stores and returns them as unit strings ("1024", "2048").
 */
export function parseTaskCpu(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpus?)?\s*$/i.exec(value);
  const units = m ? Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
  if (!Number.isInteger(units) || units <= 0) {
    throw clientError(`Invalid 'cpu' setting for task: '${value}'. Use CPU units (such as 1024) or vCPUs (such as 1 vCPU).`);
  }
  return units;
}

export function parseTaskMemory(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(gb|mib|mb)?\s*$/i.exec(value);
  const mib = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'gb' ? 1024 : 1) : NaN;
  if (!Number.isInteger(mib) || mib <= 0) {
    throw clientError(`Invalid 'memory' setting for task: '${value}'. Use MiB (such as 2048) or GB (such as 2GB).`);
  }
  return mib;
}
