import { describe, expect, it } from 'vitest';
import { compileAgentConfig, parseDuration, parseEcsConfig } from './config.js';

const file = (text: string) => () => text;

describe('agent configuration', () => {
  it('reads ecs.config, lets the environment override it and flags override both', () => {
    const config = compileAgentConfig({
      flags: { cluster: 'from-flag' },
      env: { ECS_RESERVED_MEMORY: '256', BERTH_CPU_UNITS: '2048' },
      readFile: file(
        [
          '# an ECS agent configuration',
          'ECS_CLUSTER=from-file',
          'ECS_BACKEND_HOST=http://127.0.0.1:7400/',
          'ECS_RESERVED_MEMORY=128',
          'ECS_INSTANCE_ATTRIBUTES={"stack":"prod","tier":"web"}',
          'ECS_RESERVED_PORTS=[22, 8080]',
          'ECS_DYNAMIC_HOST_PORT_RANGE=50000-50999',
          'ECS_CONTAINER_STOP_TIMEOUT=5s',
          'ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1m30s',
          'ECS_IMAGE_PULL_BEHAVIOR=prefer-cached',
          'BERTH_AVAILABILITY_ZONE="us-east-1b"',
          '',
        ].join('\n'),
      ),
    });
    expect(config).toMatchObject({
      cluster: 'from-flag',
      endpoints: ['http://127.0.0.1:7400'],
      reservedMemory: 256,
      cpuUnits: 2048,
      instanceAttributes: { stack: 'prod', tier: 'web' },
      reservedPorts: [22, 8080],
      dynamicHostPortRange: { first: 50000, last: 50999 },
      containerStopTimeoutMs: 5_000,
      taskCleanupWaitMs: 90_000,
      imagePullBehavior: 'prefer-cached',
      availabilityZone: 'us-east-1b',
    });
  });

  it('uses ECS defaults', () => {
    const config = compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env: {}, readFile: () => undefined });
    expect(config).toMatchObject({
      cluster: 'default',
      reservedPorts: [22, 2375, 2376, 51678, 51679],
      reservedPortsUdp: [],
      dynamicHostPortRange: { first: 49153, last: 65535 },
      containerStopTimeoutMs: 30_000,
      taskCleanupWaitMs: 3 * 3_600_000,
      imagePullBehavior: 'default',
      region: 'us-east-1',
      availabilityZone: 'us-east-1a',
      warmNetworkAttachments: 2,
    });
    expect(config.cpuUnits % 1024).toBe(0);
  });

  it('takes BERTH_WARM_NETWORK_ATTACHMENTS, 0 included', () => {
    const compile = (value: string) => compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env: { BERTH_WARM_NETWORK_ATTACHMENTS: value }, readFile: () => undefined });
    expect(compile('0').warmNetworkAttachments).toBe(0);
    expect(compile('5').warmNetworkAttachments).toBe(5);
  });

  it.each([
    ['a line without =', 'ECS_CLUSTER=a\nthis is not a setting\n', /ecs.config:2: expected NAME=value, got 'this is not a setting'/],
    ['an unknown non-ECS name', 'FOO=bar\n', /ecs.config:1: unknown setting 'FOO'/],
  ])('refuses %s and names the line', (_label, text, message) => {
    expect(() => parseEcsConfig(text, 'ecs.config')).toThrow(message);
  });

  it.each([
    ['ECS_INSTANCE_ATTRIBUTES', '[1,2]', /ECS_INSTANCE_ATTRIBUTES: expected a JSON object/],
    ['ECS_RESERVED_PORTS', '22,80', /ECS_RESERVED_PORTS: expected a JSON list/],
    ['ECS_DYNAMIC_HOST_PORT_RANGE', '60000', /ECS_DYNAMIC_HOST_PORT_RANGE: expected a port range like 49153-65535/],
    ['ECS_DYNAMIC_HOST_PORT_RANGE', '60000-50000', /first ≤ last, 1–65535\), got '60000-50000'/],
    ['ECS_DYNAMIC_HOST_PORT_RANGE', '0-100', /ECS_DYNAMIC_HOST_PORT_RANGE/],
    ['ECS_DYNAMIC_HOST_PORT_RANGE', '100-70000', /ECS_DYNAMIC_HOST_PORT_RANGE/],
    ['ECS_IMAGE_PULL_BEHAVIOR', 'sometimes', /expected one of default, always, once, prefer-cached/],
    ['ECS_CONTAINER_STOP_TIMEOUT', 'soon', /is not a duration/],
    ['BERTH_MEMORY_MIB', '-5', /expected a positive whole number/],
    ['BERTH_WARM_NETWORK_ATTACHMENTS', 'two', /BERTH_WARM_NETWORK_ATTACHMENTS: expected a whole number from 0 to 999, got 'two'/],
    ['BERTH_WARM_NETWORK_ATTACHMENTS', '-1', /BERTH_WARM_NETWORK_ATTACHMENTS/],
  ])('refuses a malformed %s', (name, value, message) => {
    expect(() => compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env: { [name]: value }, readFile: () => undefined })).toThrow(message);
  });

  it('needs an endpoint and refuses a missing --config file', () => {
    expect(() => compileAgentConfig({ env: {}, readFile: () => undefined })).toThrow(/no control plane endpoint/);
    expect(() => compileAgentConfig({ flags: { endpoint: 'http://h:1', config: '/nope' }, env: {}, readFile: () => undefined })).toThrow(
      /does not exist/,
    );
  });

  it('takes the control plane as a comma-separated list of replicas from ecs.config, the environment or the flag', () => {
    const compile = (inputs: { flag?: string; env?: string; file?: string }) =>
      compileAgentConfig({
        flags: inputs.flag === undefined ? {} : { endpoint: inputs.flag },
        env: inputs.env === undefined ? {} : { ECS_BACKEND_HOST: inputs.env },
        readFile: () => (inputs.file === undefined ? undefined : `ECS_BACKEND_HOST=${inputs.file}\n`),
      }).endpoints;
    expect(compile({ file: 'http://10.0.0.1:7400,http://10.0.0.2:7400/, https://cp.example.com' })).toEqual([
      'http://10.0.0.1:7400',
      'http://10.0.0.2:7400',
      'https://cp.example.com',
    ]);
    expect(compile({ file: 'http://a:1', env: ' http://b:1 , http://c:1 ' })).toEqual(['http://b:1', 'http://c:1']);
    expect(compile({ file: 'http://a:1', env: 'http://b:1', flag: 'http://d:1,http://[::1]:7400' })).toEqual(['http://d:1', 'http://[::1]:7400']);
    expect(compile({ flag: 'http://only:7400' })).toEqual(['http://only:7400']);
  });

  it.each([
    ['an empty entry', 'http://a:1,,http://b:1', /entry 2 is empty \(in 'http:\/\/a:1,,http:\/\/b:1'\)/],
    ['a trailing comma', 'http://a:1,', /entry 2 is empty/],
    ['something that is not a URL', 'http://a:1,http://bad host:7400', /entry 2: 'http:\/\/bad host:7400' is not a URL/],
    ['a bare host', 'control-plane', /entry 1: 'control-plane' is not a URL/],
    ['another scheme', 'http://a:1,ws://b:1', /entry 2: 'ws:\/\/b:1' is not an http or https URL/],
    ['a path', 'http://a:1/api', /entry 1: 'http:\/\/a:1\/api' must be scheme, host and port only/],
    ['credentials', 'http://u:p@a:1', /must be scheme, host and port only/],
    ['the same replica twice', 'http://a:1,http://b:1,http://a:1/', /entry 3: 'http:\/\/a:1\/' is listed twice/],
    ['nothing at all', ' ', /no control plane endpoint/],
  ])('refuses an endpoint list with %s, naming the entry', (_what, value, message) => {
    expect(() => compileAgentConfig({ flags: { endpoint: value }, env: {}, readFile: () => undefined })).toThrow(message);
    expect(() => compileAgentConfig({ env: { ECS_BACKEND_HOST: value }, readFile: () => undefined })).toThrow(message);
  });

  it('names where a bad endpoint list came from', () => {
    expect(() => compileAgentConfig({ flags: { endpoint: 'http://a:1,' }, env: {}, readFile: () => undefined })).toThrow(/^--endpoint entry 2 is empty/);
    expect(() => compileAgentConfig({ env: {}, readFile: () => 'ECS_BACKEND_HOST=http://a:1,\n' })).toThrow(/^ECS_BACKEND_HOST entry 2 is empty/);
  });

  it('registers as the EC2 instance id a host group gave it (BERTH_EC2_INSTANCE_ID in ecs.config), refusing a malformed one', () => {
    const compile = (file: string) => compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env: {}, readFile: () => file });
    expect(compile('').ec2InstanceId).toBeUndefined();
    expect(compile('BERTH_EC2_INSTANCE_ID=i-0123456789abcdef0\n').ec2InstanceId).toBe('i-0123456789abcdef0');
    expect(() => compile('BERTH_EC2_INSTANCE_ID=host-7\n')).toThrow(/^BERTH_EC2_INSTANCE_ID: expected i- and 8 or 17 hex digits/);
  });

  it('serves task metadata at 169.254.170.2:80 unless BERTH_METADATA_ADDRESS says otherwise', () => {
    const compile = (value?: string) =>
      compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env: value === undefined ? {} : { BERTH_METADATA_ADDRESS: value }, readFile: () => undefined });
    expect(compile().metadataAddress).toEqual({ host: '169.254.170.2', port: 80 });
    expect(compile('off').metadataAddress).toBeUndefined();
    expect(compile('169.254.170.2:0').metadataAddress).toEqual({ host: '169.254.170.2', port: 0 });
    expect(compile('10.0.0.5').metadataAddress).toEqual({ host: '10.0.0.5', port: 80 });
    for (const bad of ['localhost:80', '169.254.170.2:99999', '300.1.1.1', '[::1]:80']) {
      expect(() => compile(bad)).toThrow(/BERTH_METADATA_ADDRESS: expected an IPv4 address/);
    }
    expect(parseEcsConfig('BERTH_METADATA_ADDRESS=off\n')).toEqual({ BERTH_METADATA_ADDRESS: 'off' });
  });

  it('parses Go-style durations', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('45', 'x')).toBe(45_000);
  });
});

describe('BERTH_DNS_SERVER', () => {
  const compile = (env: Record<string, string>, file?: string) => compileAgentConfig({ flags: { endpoint: 'http://h:1' }, env, readFile: () => file });
  it('is unset by default and takes an IP address from the environment or ecs.config', () => {
    expect(compile({}).dnsServer).toBeUndefined();
    expect(compile({ BERTH_DNS_SERVER: '10.0.0.53' }).dnsServer).toBe('10.0.0.53');
    expect(compile({ BERTH_DNS_SERVER: 'fd00::53' }).dnsServer).toBe('fd00::53');
    expect(compile({}, 'BERTH_DNS_SERVER=10.1.2.3\n').dnsServer).toBe('10.1.2.3');
    expect(compile({ BERTH_DNS_SERVER: 'off' }).dnsServer).toBeUndefined();
  });
  it("unset, containers get the node-local relay on the metadata address's host; set or off, no relay", () => {
    expect(compile({}).dnsRelay).toBe('169.254.170.2');
    expect(compile({ BERTH_METADATA_ADDRESS: '169.254.170.9:0' }).dnsRelay).toBe('169.254.170.9');
    expect(compile({ BERTH_METADATA_ADDRESS: 'off' }).dnsRelay).toBe('169.254.170.2');
    expect(compile({ BERTH_DNS_SERVER: '10.0.0.53' }).dnsRelay).toBeUndefined();
    expect(compile({ BERTH_DNS_SERVER: 'off' }).dnsRelay).toBeUndefined();
    expect(compile({}, 'BERTH_DNS_SERVER=off\n').dnsRelay).toBeUndefined();
  });
  it('refuses what resolv.conf cannot carry, naming the setting', () => {
    expect(() => compile({ BERTH_DNS_SERVER: '10.0.0.53:5353' })).toThrow(/BERTH_DNS_SERVER: expected an IP address/);
    expect(() => compile({ BERTH_DNS_SERVER: 'dns.example' })).toThrow(/BERTH_DNS_SERVER/);
  });
});

