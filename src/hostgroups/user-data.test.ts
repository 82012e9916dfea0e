import { describe, expect, it } from 'vitest';
import { clusterOf, ecsConfigFor, ecsSettings, userDataText } from './user-data.js';

const launch = { instanceId: 'i-0123456789abcdef0', instanceType: 'berth.small', cpuUnits: 1024, memoryMib: 2048, availabilityZone: 'us-east-1b', attributes: { team: 'blue' } };

describe('UserData as ECS users write it', () => {
  it('reads the ecs.config lines from the script form and the plain form, base64 or not', () => {
    const script = '#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\necho "ECS_ENABLE_TASK_IAM_ROLE=true" >> /etc/ecs/ecs.config\nyum install -y foo\n';
    expect(ecsSettings(script)).toEqual({ ECS_CLUSTER: 'web', ECS_ENABLE_TASK_IAM_ROLE: 'true' });
    expect(ecsSettings(Buffer.from(script).toString('base64'))).toEqual({ ECS_CLUSTER: 'web', ECS_ENABLE_TASK_IAM_ROLE: 'true' });
    expect(ecsSettings('ECS_CLUSTER=api\nECS_INSTANCE_ATTRIBUTES={"rack":"7"}\n')).toEqual({ ECS_CLUSTER: 'api', ECS_INSTANCE_ATTRIBUTES: '{"rack":"7"}' });
    // berth's agent setting for plain-HTTP registries goes through too; other BERTH_ settings are the host's own.
    expect(ecsSettings('ECS_CLUSTER=api\nBERTH_INSECURE_REGISTRIES=10.0.0.1:5000\nBERTH_CPU_UNITS=99\n')).toEqual({ ECS_CLUSTER: 'api', BERTH_INSECURE_REGISTRIES: '10.0.0.1:5000' });
    expect(clusterOf(undefined)).toBe('default');
    // A word that happens to be valid base64 is not taken for it unless it decodes to settings.
    expect(userDataText('abcd')).toBe('abcd');
  });

  it('writes the host ecs.config: the user lines, tags merged into the attributes, and berth settings of the host', () => {
    const text = ecsConfigFor('ECS_CLUSTER=web\nECS_INSTANCE_ATTRIBUTES={"rack":"7","team":"red"}\n', { ...launch, backendHost: 'http://10.0.0.1:7400' });
    expect(text.split('\n')).toEqual([
      'ECS_CLUSTER=web',
      'ECS_INSTANCE_ATTRIBUTES={"team":"red","rack":"7"}',
      'ECS_BACKEND_HOST=http://10.0.0.1:7400',
      'BERTH_EC2_INSTANCE_ID=i-0123456789abcdef0',
      'BERTH_INSTANCE_TYPE=berth.small',
      'BERTH_CPU_UNITS=1024',
      'BERTH_MEMORY_MIB=2048',
      'BERTH_AVAILABILITY_ZONE=us-east-1b',
      '',
    ]);
    expect(ecsConfigFor(undefined, launch)).toContain('ECS_CLUSTER=default\nECS_INSTANCE_ATTRIBUTES={"team":"blue"}\n');
    // The user's own backend wins; a malformed attribute list goes on untouched for the agent to refuse by name.
    const own = ecsConfigFor('ECS_BACKEND_HOST=http://cp:7400\nECS_INSTANCE_ATTRIBUTES=oops\n', { ...launch, backendHost: 'http://10.0.0.1:7400' });
    expect(own).toContain('ECS_BACKEND_HOST=http://cp:7400\n');
    expect(own).toContain('ECS_INSTANCE_ATTRIBUTES=oops\n');
    // BERTH_INSECURE_REGISTRIES passes through; the host's size stays berth's.
    const lab = ecsConfigFor('echo BERTH_INSECURE_REGISTRIES=10.1.2.1:5000 >> /etc/ecs/ecs.config\nBERTH_CPU_UNITS=99999\n', launch);
    expect(lab).toContain('BERTH_INSECURE_REGISTRIES=10.1.2.1:5000\n');
    expect(lab).toContain('BERTH_CPU_UNITS=1024\n');
    expect(lab).not.toContain('99999');
  });
});
