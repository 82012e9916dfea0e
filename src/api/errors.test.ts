import { describe, expect, it } from 'vitest';
import { ServiceError } from '../model/errors.js';
import { StoreUnavailableError } from '../store/store.js';
import { toErrorBody } from './errors.js';

describe('toErrorBody', () => {
  it('answers a store outage with a retryable 503 ServiceUnavailableException, without the endpoints', () => {
    const body = toErrorBody(new StoreUnavailableError('etcd at http://10.0.0.1:2379 did not answer txn'));
    expect(body).toMatchObject({ status: 503, type: 'ServiceUnavailableException' });
    expect(body.message).not.toContain('10.0.0.1');
    const wrapped = new Error('RunTask failed', { cause: new StoreUnavailableError('etcd down') });
    expect(toErrorBody(wrapped)).toMatchObject({ status: 503 });
  });

  it('keeps ServiceErrors and other faults as they were', () => {
    expect(toErrorBody(new ServiceError('ClusterNotFoundException', 'no'))).toMatchObject({ status: 400 });
    expect(toErrorBody(new Error('bug'))).toMatchObject({ status: 500, type: 'ServerException' });
  });
});
