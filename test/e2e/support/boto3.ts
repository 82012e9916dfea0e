import { execFile } from 'node:child_process';

/** One boto3 call's answer: the response without its metadata, or the error's code and message. */
export type Boto3Answer = { readonly ok: any } | { readonly error: { readonly code: string; readonly message: string } };

const SCRIPT = `
import json, sys, boto3, botocore.config, botocore.exceptions
a = json.load(sys.stdin)
c = boto3.client(a['service'], endpoint_url=a['endpoint'], region_name=a['region'], aws_access_key_id=a['keys']['accessKeyId'],
                 aws_secret_access_key=a['keys']['secretAccessKey'], config=botocore.config.Config(retries={'max_attempts': 1}))
out = []
for call in a['calls']:
    try:
        r = getattr(c, call['op'])(**call['params'])
        r.pop('ResponseMetadata', None)
        out.append({'ok': r})
    except botocore.exceptions.ClientError as e:
        out.append({'error': {'code': e.response['Error']['Code'], 'message': e.response['Error'].get('Message', '')}})
print(json.dumps(out, default=str))
`;

/**
 * Calls made with boto3 (python3's, 1.43 here) in one Python process, in order: `op` is the client method's
 * snake_case name. boto3 knows members the Debian AWS CLI v2 predates (Scheduler's ActionAfterCompletion).
 */
export function boto3Calls(
  endpoint: string,
  keys: { accessKeyId: string; secretAccessKey: string },
  service: string,
  calls: readonly { op: string; params?: object }[],
  region = 'us-east-1',
): Promise<Boto3Answer[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', SCRIPT], { timeout: 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_CONFIG_FILE: '/dev/null' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`boto3 failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Boto3Answer[]);
    });
    child.stdin!.end(JSON.stringify({ endpoint, keys, service, region, calls: calls.map((c) => ({ op: c.op, params: c.params ?? {} })) }));
  });
}
