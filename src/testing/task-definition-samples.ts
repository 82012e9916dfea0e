import type { ContainerDefinition, RegisterTaskDefinitionRequest } from '@aws-sdk/client-ecs';

/** The smallest valid container. */
export const container = (name: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
  name,
  image: 'busybox:latest',
  memory: 64,
  ...extra,
});

export const minimalTaskDefinition = (family: string, extra: Partial<RegisterTaskDefinitionRequest> = {}): RegisterTaskDefinitionRequest => ({
  family,
  containerDefinitions: [container('app')],
  ...extra,
});

/**
 * A task definition that sets every member the ECS model defines for RegisterTaskDefinition, at every
 * depth, with values that are valid together. `task-definitions.test.ts` checks against the model that
 * nothing is missing, so a model update that adds a field fails a test until berth handles it.
 */
export const kitchenSinkTaskDefinition: RegisterTaskDefinitionRequest = {
  family: 'kitchen-sink',
  taskRoleArn: 'app-role',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  networkMode: 'bridge',
  cpu: '1 vCPU',
  memory: '2GB',
  pidMode: 'task',
  ipcMode: 'task',
  requiresCompatibilities: ['EC2'],
  enableFaultInjection: false,
  ephemeralStorage: { sizeInGiB: 30 },
  runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
  inferenceAccelerators: [{ deviceName: 'acc1', deviceType: 'eia2.medium' }],
  placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
  proxyConfiguration: {
    type: 'APPMESH',
    containerName: 'sidecar',
    properties: [{ name: 'IgnoredUID', value: '1337' }],
  },
  tags: [{ key: 'team', value: 'platform' }],
  volumes: [
    { name: 'host-data', host: { sourcePath: '/srv/data' } },
    {
      name: 'docker-vol',
      dockerVolumeConfiguration: {
        scope: 'shared',
        autoprovision: true,
        driver: 'local',
        driverOpts: { type: 'tmpfs' },
        labels: { owner: 'app' },
      },
    },
    {
      name: 'efs',
      efsVolumeConfiguration: {
        fileSystemId: 'fs-12345678',
        rootDirectory: '/',
        transitEncryption: 'ENABLED',
        transitEncryptionPort: 2049,
        authorizationConfig: { accessPointId: 'fsap-1234', iam: 'ENABLED' },
      },
    },
    {
      name: 's3files',
      s3filesVolumeConfiguration: {
        fileSystemArn: 'arn:aws:s3files:us-east-1:123456789012:file-system/fs-1',
        rootDirectory: '/data',
        transitEncryptionPort: 2999,
        accessPointArn: 'arn:aws:s3files:us-east-1:123456789012:access-point/ap-1',
      },
    },
    {
      name: 'fsx',
      fsxWindowsFileServerVolumeConfiguration: {
        fileSystemId: 'fs-0123456789abcdef0',
        rootDirectory: 'share',
        authorizationConfig: { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fsx', domain: 'corp.example.com' },
      },
    },
    { name: 'at-launch', configuredAtLaunch: true },
  ],
  containerDefinitions: [
    {
      name: 'app',
      image: 'registry.example.com/app:1.2.3',
      repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:registry' },
      cpu: 512,
      memory: 1024,
      memoryReservation: 512,
      links: ['sidecar:side'],
      portMappings: [
        { containerPort: 8080, hostPort: 0, protocol: 'tcp', name: 'http', appProtocol: 'http' },
        { containerPortRange: '9000-9010', protocol: 'udp' },
      ],
      essential: true,
      restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 },
      entryPoint: ['/bin/sh', '-c'],
      command: ['exec httpd -f -p 8080'],
      environment: [{ name: 'MODE', value: 'production' }],
      environmentFiles: [{ value: 'arn:aws:s3:::bucket/app.env', type: 's3' }],
      mountPoints: [
        { sourceVolume: 'host-data', containerPath: '/data', readOnly: true },
        { sourceVolume: 'docker-vol', containerPath: '/cache', readOnly: false },
      ],
      volumesFrom: [{ sourceContainer: 'sidecar', readOnly: true }],
      linuxParameters: {
        capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
        devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: ['read', 'write'] }],
        initProcessEnabled: true,
        sharedMemorySize: 128,
        tmpfs: [{ containerPath: '/run', size: 64, mountOptions: ['noexec'] }],
        maxSwap: 0,
        swappiness: 10,
      },
      secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/db' }],
      dependsOn: [{ containerName: 'sidecar', condition: 'HEALTHY' }],
      startTimeout: 60,
      stopTimeout: 20,
      versionConsistency: 'enabled',
      hostname: 'app',
      user: '1000:1000',
      workingDirectory: '/srv',
      disableNetworking: false,
      privileged: false,
      readonlyRootFilesystem: true,
      dnsServers: ['10.0.0.2'],
      dnsSearchDomains: ['corp.example.com'],
      extraHosts: [{ hostname: 'db.internal', ipAddress: '10.0.0.5' }],
      dockerSecurityOptions: ['no-new-privileges'],
      interactive: false,
      pseudoTerminal: false,
      dockerLabels: { 'com.example.tier': 'web' },
      ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': '/berth/app', 'awslogs-region': 'us-east-1' },
        secretOptions: [{ name: 'token', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/log-token' }],
      },
      healthCheck: { command: ['CMD-SHELL', 'wget -q -O- localhost:8080/'], interval: 10, timeout: 3, retries: 2, startPeriod: 5 },
      systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
      resourceRequirements: [
        { type: 'GPU', value: '1' },
        { type: 'InferenceAccelerator', value: 'acc1' },
      ],
      firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
      credentialSpecs: ['credentialspecdomainless:arn:aws:s3:::bucket/spec.json'],
    },
    {
      name: 'sidecar',
      image: 'busybox',
      memoryReservation: 128,
      essential: false,
      healthCheck: { command: ['CMD', 'true'] },
    },
  ],
};
