import { describe, expect, it } from 'vitest';
import { createServiceInput, fieldOfServiceError, type ServiceFormValues } from './service-form.js';

const empty: ServiceFormValues = {
  serviceName: ' web ',
  taskDefinition: 'web:2',
  desiredCount: '2',
  launchType: '',
  subnets: '',
  securityGroups: '',
  assignPublicIp: false,
  targetGroupArn: '',
  containerName: '',
  containerPort: '',
  circuitBreaker: false,
  enableExecuteCommand: false,
};

describe('createServiceInput', () => {
  it('sends only what was filled in, so the cluster default strategy and the API defaults apply', () => {
    expect(createServiceInput('default', empty)).toEqual({ cluster: 'default', serviceName: 'web', taskDefinition: 'web:2', desiredCount: 2 });
  });

  it('adds the launch type, awsvpc networking, a target group, the circuit breaker and ECS Exec when chosen', () => {
    const input = createServiceInput('prod', {
      ...empty,
      launchType: 'FARGATE',
      subnets: 'subnet-a, subnet-b',
      securityGroups: 'sg-1',
      assignPublicIp: true,
      targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/abc',
      containerName: 'app ',
      containerPort: '8080',
      circuitBreaker: true,
      enableExecuteCommand: true,
    });
    expect(input).toEqual({
      cluster: 'prod',
      serviceName: 'web',
      taskDefinition: 'web:2',
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
      loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/abc', containerName: 'app', containerPort: 8080 }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      enableExecuteCommand: true,
    });
  });

  it('leaves a missing container port out for the API to refuse with its own words', () => {
    expect(createServiceInput('default', { ...empty, targetGroupArn: 'tg', containerName: 'app' }).loadBalancers).toEqual([{ targetGroupArn: 'tg', containerName: 'app' }]);
  });
});

describe('fieldOfServiceError', () => {
  it.each([
    ['Creation of service was not idempotent.', 'serviceName'],
    ['desiredCount is required for a service with the REPLICA scheduling strategy.', 'desiredCount'],
    ["Invalid type for parameter 'desiredCount', value: \"x\"", 'desiredCount'],
    ['TaskDefinition not found.', 'taskDefinition'],
    ['Task definition does not support launch_type FARGATE.', 'taskDefinition'],
    ['Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.', 'launchType'],
    ['loadBalancers.containerPort: containerPort is required with a target group.', 'containerPort'],
    ['loadBalancers.containerName: containerName is required with a target group.', 'containerName'],
    ['The container app did not have a container port 80 defined.', 'containerPort'],
    ['subnets can not be empty.', 'subnets'],
    ['Assign public IP is not supported for this launch type.', 'assignPublicIp'],
  ])('%s → %s', (message, field) => {
    expect(fieldOfServiceError(message)).toBe(field);
  });

  it('names no field for a message about none', () => {
    expect(fieldOfServiceError('Rate exceeded')).toBeUndefined();
  });
});
