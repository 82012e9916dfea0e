import { describe, expect, it } from 'vitest';
import { retryable, retryDelayMs } from './client.js';
import { AwsServiceError, requestBody, responseError, TimeoutError } from './wire.js';

describe('the JSON wire', () => {
  it('sends a Date as epoch seconds and a blob as base64, as the SDK does', () => {
    const body = JSON.parse(requestBody({ at: new Date(1_700_000_000_500), nested: [{ when: new Date(0) }], blob: new Uint8Array([104, 105]), name: 'x', none: undefined }));
    expect(body).toEqual({ at: 1_700_000_000.5, nested: [{ when: 0 }], blob: 'aGk=', name: 'x' });
    expect(requestBody(undefined)).toBe('{}');
  });

  it("names a refusal by its code, namespace and URI stripped, with the body's fields, status and request id", () => {
    const e = responseError(400, { 'x-amzn-requestid': 'req-1' }, JSON.stringify({ __type: 'com.amazonaws.ecs#ClientException:http://internal', message: 'bad cluster', extra: 1 }), 2);
    expect(e).toBeInstanceOf(AwsServiceError);
    expect(e).toMatchObject({ name: 'ClientException', code: 'ClientException', message: 'bad cluster', extra: 1, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 2 } });
  });

  it('takes the code from x-amzn-errortype first, and names a bodiless answer by its status', () => {
    expect(responseError(404, { 'x-amzn-errortype': 'ResourceNotFoundException:' }, '{"Message":"gone"}', 1)).toMatchObject({ name: 'ResourceNotFoundException', message: 'gone' });
    expect(responseError(502, {}, '<html>bad gateway</html>', 1)).toMatchObject({ name: 'InternalFailure', $fault: 'server', message: '<html>bad gateway</html>' });
    expect(responseError(403, {}, '', 1)).toMatchObject({ name: 'Http403', $fault: 'client' });
  });
});

describe('retries', () => {
  it('retries what may pass on another attempt, and nothing about the request itself', () => {
    expect(retryable(responseError(503, {}, '{"__type":"ServiceUnavailableException"}', 1))).toBe(true);
    expect(retryable(responseError(400, {}, '{"__type":"ThrottlingException"}', 1))).toBe(true);
    expect(retryable(responseError(429, {}, '{}', 1))).toBe(true);
    expect(retryable(new TimeoutError('slow'))).toBe(true);
    expect(retryable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(retryable(responseError(400, {}, '{"__type":"ClusterNotFoundException"}', 1))).toBe(false);
    expect(retryable(responseError(400, {}, '{"__type":"AccessDeniedException"}', 1))).toBe(false);
  });

  it('waits a full-jitter delay doubling from 100 ms (500 ms when throttled), at most 20 s', () => {
    const error = responseError(503, {}, '{}', 1);
    expect(retryDelayMs(0, error, () => 0.999)).toBe(99);
    expect(retryDelayMs(3, error, () => 0.5)).toBe(400);
    expect(retryDelayMs(20, error, () => 0.999)).toBe(19_980);
    expect(retryDelayMs(0, responseError(400, {}, '{"__type":"ThrottlingException"}', 1), () => 0.5)).toBe(250);
  });
});
