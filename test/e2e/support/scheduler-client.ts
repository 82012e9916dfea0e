import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadServiceModel } from '../../../src/api/protocol/service-model.js';
import { queryString, restJsonRequestOf } from '../../../src/testing/rest-json-request.js';

/**
 * A minimal EventBridge Scheduler client for tests that must act within a second (boto3's process start takes
 * seconds on a loaded machine, and the SDK JS v3's client-scheduler is not installed): the operation's REST-JSON
 * request from the model, signed with SigV4 for `scheduler` as the SDKs sign it, sent with fetch.
 */
export function schedulerClient(endpoint: string, keys: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1') {
  const model = loadServiceModel('scheduler-2021-06-30.json');
  const signer = new SignatureV4({ credentials: keys, region, service: 'scheduler', sha256: Hash.bind(null, 'sha256') });
  const url = new URL(endpoint);
  return async (operation: string, input: object): Promise<{ status: number; body: any }> => {
    const request = restJsonRequestOf(model, operation, input);
    const body = request.method === 'GET' || request.method === 'DELETE' ? undefined : request.body;
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: request.path,
        query: request.query,
        headers: { host: url.host, 'content-type': 'application/json' },
        ...(body !== undefined ? { body } : {}),
      }),
    );
    const search = queryString(request.query);
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(`${endpoint}${request.path}${search ? `?${search}` : ''}`, { method: request.method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
}
