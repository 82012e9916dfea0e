/**
 * Operators' metrics of the agent (BERTH_METRICS_LISTEN) and of the server's task view, in process: an agent
 * with fake runtime parts runs a task from the real API; the agent's /metrics shows the task by state, its
 * running container and its start's spans, the server's /metrics shows the task by last status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseExposition, sampleValue, type Sample } from '../process/testing/exposition-grammar.js';
import { startApiFixture, TEST_KEYS, type ApiFixture } from '../testing/api-server.js';
import { startAgent, type RunningAgent } from './agent.js';
import { compileAgentConfig, ConfigError } from './config.js';
import { fakeWorld } from './testing/fakes.js';

let api: ApiFixture;
let agent: RunningAgent | undefined;
let dataDir: string;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, metricsListen: { host: '127.0.0.1', port: 0 } });
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
  dataDir = mkdtempSync(join(tmpdir(), 'berth-agent-metrics-'));
});
afterAll(async () => {
  await agent?.stop();
  await api?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const scrape = async (url: string): Promise<Sample[]> => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
};

describe('agent operators metrics', () => {
  it('BERTH_METRICS_LISTEN must be HOST:PORT', () => {
    expect(() => compileAgentConfig({ flags: { endpoint: 'http://127.0.0.1:1' }, env: { BERTH_METRICS_LISTEN: 'nope' }, readFile: () => undefined })).toThrow(ConfigError);
    const config = compileAgentConfig({ flags: { endpoint: 'http://127.0.0.1:1' }, env: {}, readFile: () => 'BERTH_METRICS_LISTEN=[::1]:9101\n' });
    expect(config.metricsListen).toEqual({ host: '::1', port: 9101 });
    expect(compileAgentConfig({ flags: { endpoint: 'http://127.0.0.1:1' }, env: {}, readFile: () => undefined }).metricsListen).toBeUndefined();
  });

  it('exposes tasks by state, running containers and start spans; the server shows tasks by last status', async () => {
    const world = fakeWorld();
    world.images.add('busybox');
    const config = compileAgentConfig({
      flags: { endpoint: api.server.url, dataDir, memoryMib: '1024', cpuUnits: '2048' },
      env: { BERTH_METRICS_LISTEN: '127.0.0.1:0', ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1h', ECS_CONTAINER_STOP_TIMEOUT: '2s' },
      readFile: () => undefined,
    });
    // Logging off: the spans are recorded for the metrics all the same.
    agent = await startAgent({ config, parts: world.deps, log: pino({ level: 'silent' }), credentials: TEST_KEYS, session: { silenceMs: 2_000, pingMs: 200, backoff: { minMs: 50, maxMs: 200 } } });
    expect(agent.metricsPort).toBeGreaterThan(0);
    const agentUrl = `http://127.0.0.1:${agent.metricsPort}/metrics`;
    const serverUrl = `http://${api.server.metricsAddress}/metrics`;
    expect(sampleValue(await scrape(agentUrl), 'berth_agent_containers_running')).toBe(0);

    let arn = '';
    await vi.waitFor(
      async () => {
        const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'small' }));
        arn = tasks![0]!.taskArn!;
      },
      { timeout: 5_000, interval: 100 },
    );
    await vi.waitFor(
      async () => {
        const samples = await scrape(agentUrl);
        expect(sampleValue(samples, 'berth_agent_tasks', { known_status: 'RUNNING' })).toBe(1);
        expect(sampleValue(samples, 'berth_agent_containers_running')).toBe(1);
        // The start's steps, timed: at least one step with a count.
        expect(samples.filter((s) => s.name === 'berth_agent_task_start_span_seconds_count').reduce((n, s) => n + s.value, 0)).toBeGreaterThan(0);
      },
      { timeout: 5_000, interval: 50 },
    );
    await vi.waitFor(
      async () => {
        const t = (await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
        expect(t.lastStatus).toBe('RUNNING');
        expect(sampleValue(await scrape(serverUrl), 'berth_tasks', { cluster: 'default', last_status: 'RUNNING' })).toBe(1);
      },
      { timeout: 5_000, interval: 50 },
    );

    await api.ecs.send(new StopTaskCommand({ task: arn }));
    await vi.waitFor(
      async () => {
        const samples = await scrape(agentUrl);
        expect(sampleValue(samples, 'berth_agent_tasks', { known_status: 'RUNNING' })).toBeUndefined();
        expect(sampleValue(samples, 'berth_agent_tasks', { known_status: 'STOPPED' })).toBe(1);
        expect(sampleValue(samples, 'berth_agent_containers_running')).toBe(0);
        expect(sampleValue(await scrape(serverUrl), 'berth_tasks', { cluster: 'default', last_status: 'STOPPED' })).toBe(1);
      },
      { timeout: 8_000, interval: 50 },
    );
  });
});
