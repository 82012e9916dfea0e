import { describe, expect, it } from 'vitest';
import { restJsonRequestOf } from '../../testing/rest-json-request.js';
import { routeOf } from './rest-json.js';
import { loadServiceModel } from './service-model.js';

describe('REST-JSON routes', () => {
  const model = loadServiceModel('scheduler-2021-06-30.json');
  const routes = Object.entries(model.operations).map(([action, op]) => {
    const http = (op as unknown as { http: { method: string; requestUri: string } }).http;
    return routeOf(http.method, http.requestUri, action);
  });
  const routeFor = (method: string, path: string) => routes.filter((r) => r.method === method && r.pattern.test(path)).sort((a, b) => b.weight - a.weight)[0];

  it('finds each operation from the request the SDKs make of it, labels percent-encoded', () => {
    const inputs: Record<string, object> = {
      CreateSchedule: { Name: 'nightly' },
      GetSchedule: { Name: 'nightly', GroupName: 'jobs' },
      ListSchedules: { GroupName: 'jobs', MaxResults: 5 },
      ListScheduleGroups: {},
      TagResource: { ResourceArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/jobs' },
      UntagResource: { ResourceArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/jobs', TagKeys: ['a', 'b'] },
    };
    for (const [operation, input] of Object.entries(inputs)) {
      const request = restJsonRequestOf(model, operation, input);
      const route = routeFor(request.method, request.path);
      expect(route?.action, `${request.method} ${request.path}`).toBe(operation);
    }
    const tag = restJsonRequestOf(model, 'UntagResource', inputs.UntagResource!);
    expect(tag.path).toBe('/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A123456789012%3Aschedule-group%2Fjobs');
    expect(tag.query).toEqual({ TagKeys: ['a', 'b'] });
    const label = routeFor('DELETE', tag.path)!.pattern.exec(tag.path)![1]!;
    expect(decodeURIComponent(label)).toBe('arn:aws:scheduler:us-east-1:123456789012:schedule-group/jobs');
    expect(restJsonRequestOf(model, 'ListSchedules', inputs.ListSchedules!).query).toEqual({ ScheduleGroup: 'jobs', MaxResults: '5' });
  });

  it('tells a collection from one of its members, and matches nothing else', () => {
    expect(routeFor('GET', '/schedules')?.action).toBe('ListSchedules');
    expect(routeFor('GET', '/schedules/x')?.action).toBe('GetSchedule');
    expect(routeFor('GET', '/schedules/x/y')).toBeUndefined();
    expect(routeFor('PATCH', '/schedules/x')).toBeUndefined();
    const greedy = routeOf('GET', '/objects/{Key+}', 'GetObject');
    expect(greedy.pattern.exec('/objects/a/b/c')![1]).toBe('a/b/c');
  });

  it("routes EFS's versioned paths, a file system's sub-resources apart from it", () => {
    const efs = loadServiceModel('elasticfilesystem-2015-02-01.json');
    const efsRoutes = Object.entries(efs.operations).map(([action, op]) => routeOf(op.http!.method, op.http!.requestUri, action));
    const find = (method: string, path: string) => efsRoutes.filter((r) => r.method === method && r.pattern.test(path)).sort((a, b) => b.weight - a.weight)[0]?.action;
    expect(find('POST', '/2015-02-01/file-systems')).toBe('CreateFileSystem');
    expect(find('GET', '/2015-02-01/file-systems')).toBe('DescribeFileSystems');
    expect(find('DELETE', '/2015-02-01/file-systems/fs-1')).toBe('DeleteFileSystem');
    expect(find('GET', '/2015-02-01/file-systems/fs-1/policy')).toBe('DescribeFileSystemPolicy');
    expect(find('PUT', '/2015-02-01/file-systems/fs-1/lifecycle-configuration')).toBe('PutLifecycleConfiguration');
    expect(find('POST', '/2015-02-01/access-points')).toBe('CreateAccessPoint');
    expect(efs.operations.DeleteFileSystem!.http!.responseCode).toBe(204);
  });
});
