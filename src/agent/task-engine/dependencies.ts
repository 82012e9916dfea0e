import type { AcsContainer } from '../../model/acs.js';
import type { ContainerState } from './task-state.js';

/**
 * Container dependencies (dependsOn), as ECS orders them. Pure: given the task's containers, whether one
 * may start now, must keep waiting, or never can.
 *
 *   START     the dependency has started (it may have exited since)
 *   COMPLETE  the dependency has exited, with any code
 *   SUCCESS   the dependency has exited with code 0
 *   HEALTHY   the dependency's health check passes
 */
export type DependencyVerdict = { readonly kind: 'ready' } | { readonly kind: 'waiting'; readonly on: string } | { readonly kind: 'failed'; readonly reason: string };

const READY = { kind: 'ready' } as const;

export function dependencyVerdict(def: AcsContainer, containers: readonly ContainerState[]): DependencyVerdict {
  for (const dep of dependenciesOf(def)) {
    const target = containers.find((c) => c.name === dep.containerName);
    if (!target) return { kind: 'failed', reason: `DependencyError: container '${def.name}' depends on unknown container '${dep.containerName}'` };
    const started = target.startedAt !== undefined;
    const exited = target.known === 'STOPPED';
    const label = `'${target.name}' to reach ${dep.condition}`;
    if (exited && !started) {
      return { kind: 'failed', reason: `DependencyError: container '${def.name}' waited for ${label}, but it never started` };
    }
    switch (dep.condition) {
      case 'START':
        if (!started) return { kind: 'waiting', on: label };
        break;
      case 'COMPLETE':
        if (!exited) return { kind: 'waiting', on: label };
        break;
      case 'SUCCESS':
        if (!exited) return { kind: 'waiting', on: label };
        if (target.exitCode !== 0) {
          return { kind: 'failed', reason: `DependencyError: container '${def.name}' needs '${target.name}' to succeed, but it exited with code ${target.exitCode}` };
        }
        break;
      case 'HEALTHY':
        if (target.healthStatus !== 'HEALTHY') {
          if (exited) return { kind: 'failed', reason: `DependencyError: container '${def.name}' needs '${target.name}' to be HEALTHY, but it exited` };
          return { kind: 'waiting', on: label };
        }
        break;
      default:
        return { kind: 'failed', reason: `DependencyError: unknown condition ${String(dep.condition)}` };
    }
  }
  return READY;
}

/**
 * dependsOn, plus a START dependency on every linked container (as Docker needs: a link is to a running
 * container, whose address goes into the linking container's /etc/hosts).
 */
export function dependenciesOf(def: AcsContainer): { readonly containerName: string; readonly condition: string }[] {
  const explicit = (def.dependsOn ?? []).map((d) => ({ containerName: d.containerName!, condition: d.condition! }));
  const linked = (def.links ?? [])
    .map((link) => link.split(':')[0]!)
    .filter((name) => !explicit.some((d) => d.containerName === name))
    .map((containerName) => ({ containerName, condition: 'START' }));
  return [...explicit, ...linked];
}

/** Whether a container must keep running because a container that depends on it has not stopped yet. */
export function neededByRunningDependent(name: string, defs: readonly AcsContainer[], containers: readonly ContainerState[]): boolean {
  return defs.some(
    (d) => dependenciesOf(d).some((dep) => dep.containerName === name) && containers.find((c) => c.name === d.name)?.known !== 'STOPPED',
  );
}
