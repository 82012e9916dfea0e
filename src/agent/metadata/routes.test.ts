import { describe, expect, it } from 'vitest';
import { notFoundMessage, parseRoute } from './routes.js';

const T = '0123456789abcdef0123456789abcdef';

describe('task metadata routes', () => {
  it.each([
    [`/v4/${T}`, { version: 'v4', token: T, resource: 'container' }],
    [`/v4/${T}/`, { version: 'v4', token: T, resource: 'container' }],
    [`/v4/${T}/task`, { version: 'v4', token: T, resource: 'task' }],
    [`/v4/${T}/task/`, { version: 'v4', token: T, resource: 'task' }],
    [`/v4/${T}/taskWithTags`, { version: 'v4', token: T, resource: 'taskWithTags' }],
    [`/v4/${T}/stats?stream=false`, { version: 'v4', token: T, resource: 'stats' }],
    [`/v4/${T}/task/stats`, { version: 'v4', token: T, resource: 'taskStats' }],
    [`/v3/${T}/task`, { version: 'v3', token: T, resource: 'task' }],
  ])('%s', (url, route) => {
    expect(parseRoute(url)).toEqual(route);
  });

  it.each(['/', '/v4', '/v4/', `/v2/${T}/task`, `/v4/${T}/tasks`, `/v4/${T}/task/stats/more`, `/v4/${T}/TASK`, `/v4/${T}//task`, `/v4/${T}/constructor`, `/v4/${T}/__proto__`, `/v4/${T}/toString`])(
    'names nothing at %s',
    (url) => {
      expect(parseRoute(url)).toBeUndefined();
    },
  );

  it("words not-found answers as ECS's agent, without echoing the token", () => {
    const route = parseRoute(`/v4/${T}/task`)!;
    expect(notFoundMessage(route)).toBe('V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID');
    expect(notFoundMessage({ ...route, version: 'v3', resource: 'container' })).toMatch(/^V3 container metadata handler: /);
    for (const resource of ['container', 'task', 'taskWithTags', 'stats', 'taskStats'] as const) {
      expect(notFoundMessage({ ...route, resource })).not.toContain(T);
    }
  });
});
