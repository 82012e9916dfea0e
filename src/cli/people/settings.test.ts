import { describe, expect, it } from 'vitest';
import { CliUsageError, resolveSettings } from './settings.js';

const none = () => false;

describe('where the commands for people call, and as whom', () => {
  it('takes flags first, then BERTH_ENDPOINT / AWS_ENDPOINT_URL_ECS / AWS_ENDPOINT_URL, then the local server', () => {
    expect(resolveSettings({}, {}, none)).toEqual({ endpoint: 'http://127.0.0.1:7400', region: 'us-east-1', cluster: 'default' });
    expect(resolveSettings({}, { AWS_ENDPOINT_URL: 'http://a:1/' }, none).endpoint).toBe('http://a:1');
    expect(resolveSettings({}, { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_ECS: 'http://b:2' }, none).endpoint).toBe('http://b:2');
    expect(resolveSettings({}, { BERTH_ENDPOINT: 'http://c:3', AWS_ENDPOINT_URL_ECS: 'http://b:2' }, none).endpoint).toBe('http://c:3');
    expect(resolveSettings({ endpoint: 'https://d:4' }, { BERTH_ENDPOINT: 'http://c:3' }, none).endpoint).toBe('https://d:4');
    expect(resolveSettings({}, { BERTH_CLUSTER: 'prod', AWS_DEFAULT_REGION: 'eu-west-1' }, none)).toMatchObject({ cluster: 'prod', region: 'eu-west-1' });
    expect(resolveSettings({ cluster: 'x', region: 'r' }, { BERTH_CLUSTER: 'prod', AWS_REGION: 'eu-west-1' }, none)).toMatchObject({ cluster: 'x', region: 'r' });
  });

  it('refuses an endpoint that is not an http(s) URL, saying what to give', () => {
    expect(() => resolveSettings({ endpoint: 'localhost:7400' }, {}, none)).toThrow(CliUsageError);
    expect(() => resolveSettings({ endpoint: 'nope' }, {}, none)).toThrow(/--endpoint http:\/\/HOST:PORT/);
  });

  it("uses the credentials file berth writes only when the environment names no credentials", () => {
    const readable = (p: string) => p === '/var/lib/berth/credentials' || p === '/srv/b/credentials';
    expect(resolveSettings({}, {}, readable).credentialsEnv).toEqual({ AWS_SHARED_CREDENTIALS_FILE: '/var/lib/berth/credentials', AWS_PROFILE: 'berth' });
    expect(resolveSettings({}, { BERTH_DATA_DIR: '/srv/b' }, readable).credentialsEnv?.AWS_SHARED_CREDENTIALS_FILE).toBe('/srv/b/credentials');
    expect(resolveSettings({}, { AWS_PROFILE: 'mine' }, readable).credentialsEnv).toBeUndefined();
    expect(resolveSettings({}, { AWS_ACCESS_KEY_ID: 'AKIA' }, readable).credentialsEnv).toBeUndefined();
    expect(resolveSettings({}, {}, none).credentialsEnv).toBeUndefined();
  });
});
