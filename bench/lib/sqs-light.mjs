// A light SQS client for the throughput benchmark: JSON 1.0 requests signed with SigV4 by node:crypto directly
// (the signing key derived once a day), sent over one keep-alive pool. On a 2-core machine the SDK JS v3 client
// spends about twice the server's CPU per message; this one lets the benchmark show the server's side instead.
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

const hmac = (key, text) => createHmac('sha256', key).update(text, 'utf8').digest();
const hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** `call(action, input)` → the parsed answer; rejects with the status and body of an error answer. */
export function lightSqs(url, keys, { region = 'us-east-1', sockets = 32 } = {}) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  let day = '';
  let signingKey;
  const call = (action, input) => {
    const body = JSON.stringify(input);
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    if (date !== day) {
      day = date;
      signingKey = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, date), region), 'sqs'), 'aws4_request');
    }
    const headers = { 'content-type': 'application/x-amz-json-1.0', host: target.host, 'x-amz-date': amzDate, 'x-amz-target': `AmazonSQS.${action}` };
    const signedHeaders = 'content-type;host;x-amz-date;x-amz-target';
    const canonical = `POST\n/\n\ncontent-type:${headers['content-type']}\nhost:${headers.host}\nx-amz-date:${amzDate}\nx-amz-target:${headers['x-amz-target']}\n\n${signedHeaders}\n${hex(body)}`;
    const scope = `${date}/${region}/sqs/aws4_request`;
    const signature = createHmac('sha256', signingKey).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(canonical)}`).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    headers['content-length'] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/', headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(JSON.parse(text));
          else reject(new Error(`${action}: ${res.statusCode} ${text}`));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  return { call, destroy: () => agent.destroy() };
}
