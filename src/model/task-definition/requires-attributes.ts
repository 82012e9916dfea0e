import type { RegisterTaskDefinitionRequest } from '@aws-sdk/client-ecs';

const API = 'com.amazonaws.ecs.capability.docker-remote-api';

/**
 * The container-instance attributes a task definition needs, as ECS computes them at registration: one
 * per feature that an agent must advertise before tasks using it may be placed on it. The agent
 * advertises the same names for what it supports; placement matches the two.
 */
export function requiredAttributes(td: RegisterTaskDefinitionRequest): string[] {
  const out = new Set<string>();
  const containers = td.containerDefinitions ?? [];
  if (td.networkMode !== undefined) out.add(`${API}.1.18`);
  if (td.networkMode === 'awsvpc') out.add('ecs.capability.task-eni');
  if (td.taskRoleArn) {
    out.add('com.amazonaws.ecs.capability.task-iam-role');
    if (td.networkMode === 'host') out.add('com.amazonaws.ecs.capability.task-iam-role-network-host');
  }
  if (td.proxyConfiguration) out.add('ecs.capability.aws-appmesh');
  if (td.pidMode || td.ipcMode) out.add(`${API}.1.25`);
  for (const v of td.volumes ?? []) {
    if (v.dockerVolumeConfiguration) {
      out.add(`${API}.1.25`);
      out.add(`com.amazonaws.ecs.capability.docker-plugin.${v.dockerVolumeConfiguration.driver ?? 'local'}`);
    }
    if (v.efsVolumeConfiguration) {
      out.add('ecs.capability.efs');
      if (v.efsVolumeConfiguration.authorizationConfig) out.add('ecs.capability.efsAuth');
    }
    if (v.fsxWindowsFileServerVolumeConfiguration) out.add('ecs.capability.fsxWindowsFileServer');
  }
  for (const c of containers) {
    if (c.dockerLabels && Object.keys(c.dockerLabels).length) out.add(`${API}.1.18`);
    if (c.ulimits?.length) out.add(`${API}.1.18`);
    if (c.memoryReservation !== undefined) out.add(`${API}.1.21`);
    if (c.logConfiguration?.logDriver) {
      out.add(`${API}.1.18`);
      out.add(`com.amazonaws.ecs.capability.logging-driver.${c.logConfiguration.logDriver}`);
      if (c.logConfiguration.logDriver === 'awslogs' && td.executionRoleArn) out.add('ecs.capability.execution-role-awslogs');
    }
    if (c.healthCheck) out.add('ecs.capability.container-health-check');
    if (c.dependsOn?.length || c.startTimeout !== undefined || c.stopTimeout !== undefined) {
      out.add('ecs.capability.container-ordering');
    }
    for (const s of c.secrets ?? []) {
      out.add(
        s.valueFrom?.includes(':secretsmanager:')
          ? 'ecs.capability.secrets.asm.environment-variables'
          : 'ecs.capability.secrets.ssm.environment-variables',
      );
    }
    for (const s of c.logConfiguration?.secretOptions ?? []) {
      out.add(s.valueFrom?.includes(':secretsmanager:') ? 'ecs.capability.secrets.asm.bootstrap.log-driver' : 'ecs.capability.secrets.ssm.bootstrap.log-driver');
    }
    if (c.repositoryCredentials) out.add('com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager');
    if (c.image && /\.dkr\.ecr\.[^/]+\.amazonaws\.com/.test(c.image)) {
      out.add('com.amazonaws.ecs.capability.ecr-auth');
      if (td.executionRoleArn) out.add('ecs.capability.execution-role-ecr-pull');
    }
    if (c.environmentFiles?.length) out.add('ecs.capability.env-files.s3');
    if (c.firelensConfiguration) out.add(`ecs.capability.firelens.${c.firelensConfiguration.type}`);
    if (c.restartPolicy?.enabled) out.add('ecs.capability.container-restart-policy');
    if (c.credentialSpecs?.length) out.add('ecs.capability.gmsa');
  }
  return [...out].sort();
}
