import { describe, expect, it } from 'vitest';
import { withModelMemberNames } from './member-names.js';
import { loadServiceModel } from './service-model.js';

describe('withModelMemberNames', () => {
  it('spells PascalCase members of a camelCase model as the model does, through lists and nested structures', () => {
    const ecs = loadServiceModel('ecs-2014-11-13.json');
    const input = {
      Cluster: 'default',
      TaskDefinition: 'stamp:1',
      Overrides: { ContainerOverrides: [{ Name: 'probe', Environment: [{ Name: 'A', Value: 'b' }] }] },
      NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['s'] } },
      Unknown: 1,
    };
    expect(withModelMemberNames(ecs, ecs.operations.RunTask!.input!.shape, input)).toEqual({
      cluster: 'default',
      taskDefinition: 'stamp:1',
      overrides: { containerOverrides: [{ name: 'probe', environment: [{ name: 'A', value: 'b' }] }] },
      networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } },
      Unknown: 1,
    });
  });

  it("keeps map keys as given and a PascalCase model's members unchanged", () => {
    const sqs = loadServiceModel('sqs-2012-11-05.json');
    const input = { queueUrl: 'u', MessageBody: 'b', MessageAttributes: { traceId: { DataType: 'String', stringValue: 'x' } } };
    expect(withModelMemberNames(sqs, sqs.operations.SendMessage!.input!.shape, input)).toEqual({
      QueueUrl: 'u',
      MessageBody: 'b',
      MessageAttributes: { traceId: { DataType: 'String', StringValue: 'x' } },
    });
  });
});
