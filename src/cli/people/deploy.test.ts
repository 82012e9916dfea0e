import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { stopReason } from './deploy-command.js';
import { nextRevision, targetContainer } from './deploy-revision.js';
import { parseDuration } from './durations.js';
import { liveLine } from './live-line.js';
import { paint } from './render.js';
import { bar, newEvents, plainLine, progressLine, rolloutView } from './rollout.js';
import { CliUsageError } from './settings.js';

const described: TaskDefinition = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:0:task-definition/web:4',
  family: 'web',
  revision: 4,
  status: 'ACTIVE',
  networkMode: 'bridge',
  cpu: '256',
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
  compatibilities: ['EC2'],
  registeredAt: new Date(0),
  containerDefinitions: [
    { name: 'app', image: 'reg/web:v1', memory: 64, environment: [{ name: 'A', value: '1' }] },
    { name: 'side', image: 'reg/side:v1', memory: 32 },
  ],
};

describe('berth deploy: the next revision', () => {
  it('copies what RegisterTaskDefinition takes, replaces one image and leaves the service-made members out', () => {
    const next = nextRevision(described, 'app', 'reg/web:v2', [{ key: 'team', value: 'a' }]);
    expect(next).toEqual({
      family: 'web',
      networkMode: 'bridge',
      cpu: '256',
      containerDefinitions: [
        { name: 'app', image: 'reg/web:v2', memory: 64, environment: [{ name: 'A', value: '1' }] },
        { name: 'side', image: 'reg/side:v1', memory: 32 },
      ],
      tags: [{ key: 'team', value: 'a' }],
    });
    expect(described.containerDefinitions![0]!.image).toBe('reg/web:v1');
  });

  it('needs --container when there are several, and a name the definition has', () => {
    expect(() => targetContainer(described, undefined)).toThrow(/web:4 has 2 containers \(app, side\): say which one gets the image with --container NAME/);
    expect(() => targetContainer(described, 'db')).toThrow(CliUsageError);
    expect(targetContainer(described, 'side')).toBe('side');
    expect(targetContainer({ ...described, containerDefinitions: [{ name: 'only' }] }, undefined)).toBe('only');
  });
});

const service = (deployments: Service['deployments'], events: Service['events'] = []): Service => ({ serviceName: 'web', deployments, events });

describe('berth deploy: the rollout', () => {
  it('watches an IN_PROGRESS primary, is done at COMPLETED, failed at FAILED, replaced when another is primary', () => {
    const ours = { id: 'd2', status: 'PRIMARY', desiredCount: 3, runningCount: 1, pendingCount: 2, failedTasks: 0, rolloutState: 'IN_PROGRESS' as const };
    expect(rolloutView(service([ours]), 'd2')).toMatchObject({ outcome: 'watching', desired: 3, running: 1, pending: 2, state: 'IN_PROGRESS' });
    expect(rolloutView(service([{ ...ours, rolloutState: 'COMPLETED' }]), 'd2').outcome).toBe('done');
    const old = { id: 'd1', status: 'PRIMARY', taskDefinition: 'arn:aws:ecs:us-east-1:0:task-definition/web:4', rolloutState: 'IN_PROGRESS' as const };
    const failed = rolloutView(service([old, { ...ours, status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.', failedTasks: 3 }]), 'd2');
    expect(failed).toMatchObject({ outcome: 'failed', failed: 3, reason: 'ECS deployment circuit breaker: tasks failed to start.', primary: { id: 'd1' } });
    expect(rolloutView(service([{ ...ours, rolloutState: 'FAILED' }]), 'd2')).toMatchObject({ outcome: 'failed', primary: undefined });
    expect(rolloutView(service([old, { ...ours, status: 'ACTIVE' }]), 'd2')).toMatchObject({ outcome: 'replaced', primary: { id: 'd1' } });
    expect(rolloutView(service([old]), 'd2')).toMatchObject({ outcome: 'replaced', state: '-' });
    // Failed and rolled back between two looks: the event says so; the counts are the last ones seen.
    const gone = service([old], [{ id: 'e', message: '(service web) (deployment d2) deployment failed: tasks failed to start.' }]);
    const seen = rolloutView(service([{ ...ours, failedTasks: 2 }]), 'd2');
    expect(rolloutView(gone, 'd2', seen)).toMatchObject({ outcome: 'failed', state: 'FAILED', reason: 'tasks failed to start.', desired: 3, failed: 2, primary: { id: 'd1' } });
  });

  it('draws running and pending shares of the desired count, and a plain line without time for pipes', () => {
    const p = paint(false);
    expect(bar({ desired: 4, running: 2, pending: 1 }, p)).toBe(`[${'█'.repeat(12)}${'▒'.repeat(6)}${'░'.repeat(6)}]`);
    expect(bar({ desired: 0, running: 0, pending: 0 }, p)).toBe(`[${'░'.repeat(24)}]`);
    expect(bar({ desired: 1, running: 3, pending: 2 }, p)).toBe(`[${'█'.repeat(24)}]`);
    const view = rolloutView(service([{ id: 'd', status: 'PRIMARY', desiredCount: 2, runningCount: 1, pendingCount: 1, failedTasks: 1, rolloutState: 'IN_PROGRESS' }]), 'd');
    expect(progressLine('web', view, 12_400, p)).toBe(`web ${bar(view, p)} 1/2 running · 1 pending · 1 failed · IN_PROGRESS · 12s`);
    expect(progressLine('web', view, 0, paint(true))).toContain('\x1b[33mIN_PROGRESS\x1b[0m');
    expect(plainLine('web', view)).toBe('web: 1/2 running, 1 pending, 1 failed (IN_PROGRESS)');
  });

  it('prints each service event once, oldest first, only those since the deploy', () => {
    const seen = new Set<string>();
    const events = [
      { id: 'c', createdAt: new Date(3000), message: 'third' },
      { id: 'b', createdAt: new Date(2000), message: 'second' },
      { id: 'a', createdAt: new Date(500), message: 'before' },
    ];
    expect(newEvents(service([], events), 1000, seen).map((e) => e.message)).toEqual(['second', 'third']);
    expect(newEvents(service([], [{ id: 'd', createdAt: new Date(4000), message: 'fourth' }, ...events]), 1000, seen).map((e) => e.message)).toEqual(['fourth']);
  });

  it('says why a task stopped, with its containers’ exit codes', () => {
    expect(stopReason({ stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', exitCode: 3 }, { name: 'side' }] })).toBe('Essential container in task exited (app exited with 3)');
    expect(stopReason({ stopCode: 'TaskFailedToStart', containers: [{ name: 'app', reason: 'CannotPullContainerError: nope' }] })).toBe('TaskFailedToStart (app CannotPullContainerError: nope)');
  });
});

describe('progress output', () => {
  it('redraws one line on a terminal, notes above it', () => {
    let out = '';
    const line = liveLine({ isTTY: true, write: (t: string) => (out += t) });
    line.update('a 1');
    line.note('event');
    line.update('a 2');
    line.end();
    expect(out).toBe('\r\x1b[Ka 1\r\x1b[Kevent\na 1\r\x1b[Ka 2\n');
  });

  it('through a pipe prints a plain line only when it changes', () => {
    let out = '';
    const line = liveLine({ write: (t: string) => (out += t) });
    line.update('bar 1s', 'one');
    line.update('bar 2s', 'one');
    line.note('event');
    line.update('bar 3s', 'two');
    line.end();
    expect(out).toBe('one\nevent\ntwo\n');
  });
});

describe('durations', () => {
  it('reads 500ms, 90s, 1h30m and refuses the rest naming the flag', () => {
    expect(parseDuration('500ms', '--poll')).toBe(500);
    expect(parseDuration('1h30m', '--timeout')).toBe(5_400_000);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout: 'soon' is not a duration/);
    expect(() => parseDuration('', '--poll')).toThrow(CliUsageError);
  });
});
