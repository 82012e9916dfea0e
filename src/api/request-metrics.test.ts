import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { JsonService } from './protocol/json-rpc.js';
import { requestLabeler, tagRequest } from './request-metrics.js';

const ecs = { targetPrefix: 'AmazonEC2ContainerServiceV20141113', signingNames: ['ecs'], model: { operations: { RunTask: {} } } } as unknown as JsonService;
const cw = { targetPrefix: 'GraniteServiceVersion20100801', signingNames: ['monitoring'], model: { operations: { ListMetrics: {} } } } as unknown as JsonService;
const req = (method: string, url: string, headers: Record<string, string> = {}) => ({ method, url, headers }) as unknown as IncomingMessage;

describe('requestLabeler', () => {
  const label = requestLabeler([ecs, cw], [cw]);

  it('labels JSON requests by X-Amz-Target and CBOR ones by path, with the signing name', () => {
    expect(label(req('POST', '/', { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.RunTask' }))).toEqual({ service: 'ecs', action: 'RunTask' });
    expect(label(req('POST', '/service/GraniteServiceVersion20100801/operation/ListMetrics'))).toEqual({ service: 'monitoring', action: 'ListMetrics' });
  });

  it('counts actions and APIs nobody serves as unknown, so junk cannot grow the series', () => {
    expect(label(req('POST', '/', { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.Junk123' }))).toEqual({ service: 'ecs', action: 'unknown' });
    expect(label(req('POST', '/', { 'x-amz-target': 'Nope.RunTask' }))).toEqual({ service: 'unknown', action: 'unknown' });
    expect(label(req('POST', '/'))).toEqual({ service: 'unknown', action: 'unknown' });
    expect(label(req('POST', '/service/GraniteServiceVersion20100801/operation/%E0%A4%A'))).toEqual({ service: 'monitoring', action: 'unknown' });
  });

  it("takes a handler's tag (the Query protocol's Action) over the headers, and names other routes", () => {
    const query = req('POST', '/');
    tagRequest(query, { service: 'iam', action: 'ListUsers' });
    expect(label(query)).toEqual({ service: 'iam', action: 'ListUsers' });
    expect(label(req('GET', '/v2/repo/manifests/latest'))).toEqual({ service: 'http', action: 'registry' });
    expect(label(req('GET', '/healthz'))).toEqual({ service: 'http', action: 'healthz' });
    expect(label(req('GET', '/anything'))).toEqual({ service: 'http', action: 'other' });
  });
});
