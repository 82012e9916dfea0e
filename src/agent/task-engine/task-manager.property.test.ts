import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AcsContainer } from '../../model/acs.js';
import { ARN, container, id, setupTimed, task } from '../testing/task-fixtures.js';
import { containerKnownStatuses } from './task-state.js';

/**
 * The task manager under random runs of events — exits, stops, payloads sent again, time passing, agent
 * restarts — on fakes with fake time. Whatever happens: no container is started twice, statuses saved and
 * reported only move forward, the manager never fails a step, and a stop followed by the cleanup wait leaves
 * nothing behind.
 */

const command = fc.oneof(
  fc.record({ kind: fc.constant('exit' as const), container: fc.nat(2), code: fc.constantFrom(0, 1, 137) }),
  fc.record({ kind: fc.constant('stop' as const) }),
  fc.record({ kind: fc.constant('resend' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ kind: fc.constant('restart' as const) }),
);

const shape = fc.record({
  containers: fc.integer({ min: 1, max: 3 }),
  essential: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  dependency: fc.constantFrom(undefined, 'START', 'COMPLETE', 'SUCCESS'),
  stopTimeout: fc.integer({ min: 1, max: 30 }),
  ports: fc.boolean(),
});

describe('task manager under random events', () => {
  it('never starts a container twice, only moves forward, and cleans up everything after a stop', async () => {
    await fc.assert(
      fc.asyncProperty(shape, fc.array(command, { maxLength: 12 }), async (sh, commands) => {
        const w = setupTimed({ taskCleanupWaitMs: 60_000 });
        const errors: unknown[] = [];
        (w.deps as { log: unknown }).log = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
        const defs: AcsContainer[] = Array.from({ length: sh.containers }, (_, i) =>
          container(`c${i}`, {
            essential: i === 0 || sh.essential[i]!,
            stopTimeout: sh.stopTimeout,
            ...(i === 0 && sh.ports ? { portMappings: [{ containerPort: 80 }] } : {}),
            ...(i === 0 && sh.dependency && sh.containers > 1 ? { dependsOn: [{ containerName: 'c1', condition: sh.dependency }] } : {}),
          }),
        );
        const spec = task(defs);
        const starts = new Map<string, number>();
        const start = w.runtime.start.bind(w.runtime);
        w.runtime.start = async (x) => {
          starts.set(x, (starts.get(x) ?? 0) + 1);
          return start(x);
        };
        w.runtime.ignoreTerm.add(id('c0'));
        await w.engine.handlePayload([spec]);
        await w.settle();
        for (const c of commands) {
          if (c.kind === 'exit') {
            const held = w.runtime.containers.get(id(`c${c.container}`));
            if (held?.status === 'running') w.runtime.exit(id(`c${c.container}`), c.code);
          } else if (c.kind === 'stop' || c.kind === 'resend') {
            // The control plane sends only tasks it has not seen STOPPED: never one the agent cleaned up.
            if (w.engine.get(ARN)) await w.engine.handlePayload([c.kind === 'stop' ? { ...spec, desiredStatus: 'STOPPED' } : spec]);
          } else if (c.kind === 'advance') await w.advance(c.ms);
          else await w.restart();
          await w.settle();
        }
        // The control plane stops it for good; after the stop timeout and the cleanup wait nothing remains.
        if (w.engine.get(ARN)) await w.engine.handlePayload([{ ...spec, desiredStatus: 'STOPPED' }]);
        await w.settle();
        for (let i = 0; i < 4; i++) await w.advance(60_000);

        expect([...starts.values()].every((n) => n === 1)).toBe(true);
        const order = (s: string) => containerKnownStatuses.indexOf(s as (typeof containerKnownStatuses)[number]);
        for (let i = 0; i < sh.containers; i++) {
          const seen = w.reports.map((r) => order(r.containers[i]!.known));
          expect(seen).toEqual([...seen].sort((a, b) => a - b));
        }
        expect(w.engine.get(ARN)).toBeUndefined();
        expect(w.saved.size).toBe(0);
        expect(w.runtime.containers.size).toBe(0);
        expect(w.network.attached.size).toBe(0);
        expect(w.images.rootfs.size).toBe(0);
        expect(w.images.mounted.size).toBe(0);
        expect(w.ports.holdings()).toEqual([]);
        expect(errors).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
