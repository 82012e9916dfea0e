import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../model/errors.js';
import { managedPolicyByArn, parsePolicyDocument } from '../../model/iam/index.js';
import { logsActions } from '../../logs/iam-actions.js';
import { registryDeclaration } from '../../registry/http/iam-actions.js';
import { pollAction } from '../acs/iam-actions.js';
import { ecrActions } from '../ecr/iam-actions.js';
import { ecsActions } from '../ecs/iam-actions.js';
import { Authorizer } from './authorizer.js';
import type { ActionDeclaration } from './declarations.js';
import { MemoryPolicySource } from './policy-source.js';

/**
 * What `berth agent` asks of the control plane with its own credentials, each call as the agent makes it, through
 * the same declarations and step the server uses, against AmazonEC2ContainerServiceforEC2Role: everything the agent
 * needs is allowed by it, and the things it may do beyond it are exactly the ones ECS documents as needing more.
 * test/e2e/instance-role.test.ts proves the same with real processes.
 */
const scope = { region: 'us-east-1', accountId: '123456789012' } as const;
const AGENT = 'arn:aws:iam::123456789012:user/ecs-instance';
const agent = { type: 'User', arn: AGENT, accountId: scope.accountId, userName: 'ecs-instance', userId: 'AIDAINSTANCE' } as const;
const INSTANCE = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/prod/fedcba9876543210fedcba9876543210';
const ROLE = managedPolicyByArn('arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role')!;

interface Call {
  readonly declaration: ActionDeclaration;
  readonly input: object;
}

/** The agent's calls (src/agent: registration, reporter, session-client, registry-auth, image pulls, log-shipper-tail). */
const AGENT_CALLS: Record<string, Call> = {
  'RegisterContainerInstance (registration.ts)': { declaration: ecsActions.RegisterContainerInstance!, input: { cluster: 'prod', containerInstanceArn: INSTANCE } },
  'CreateCluster of `default` when it is missing (registration.ts)': { declaration: ecsActions.CreateCluster!, input: { clusterName: 'default' } },
  'the session upgrade (session-client.ts)': { declaration: pollAction, input: { containerInstanceArn: INSTANCE, cluster: 'prod' } },
  'SubmitTaskStateChange (reporter.ts)': { declaration: ecsActions.SubmitTaskStateChange!, input: { cluster: 'prod', task: TASK, status: 'RUNNING' } },
  'GetAuthorizationToken (registry-auth.ts)': { declaration: ecrActions.GetAuthorizationToken!, input: {} },
  'a manifest pull': { declaration: registryDeclaration('ecr:BatchGetImage'), input: { action: 'ecr:BatchGetImage', name: 'team/app' } },
  'a layer pull': { declaration: registryDeclaration('ecr:GetDownloadUrlForLayer'), input: { action: 'ecr:GetDownloadUrlForLayer', name: 'team/app' } },
  'a layer check (HEAD)': { declaration: registryDeclaration('ecr:BatchCheckLayerAvailability'), input: { action: 'ecr:BatchCheckLayerAvailability', name: 'team/app' } },
  // The metadata endpoint's /taskWithTags (metadata/tags.ts): the policy's v10 allows it on tasks and instances.
  "ListTagsForResource of the task (metadata/tags.ts)": { declaration: ecsActions.ListTagsForResource!, input: { resourceArn: TASK } },
  "ListTagsForResource of the container instance (metadata/tags.ts)": { declaration: ecsActions.ListTagsForResource!, input: { resourceArn: INSTANCE } },
  'CreateLogStream (log-shipper-tail.ts)': { declaration: logsActions.CreateLogStream!, input: { logGroupName: '/ecs/app', logStreamName: 'ecs/app/abc' } },
  'PutLogEvents (log-shipper-tail.ts)': { declaration: logsActions.PutLogEvents!, input: { logGroupName: '/ecs/app', logStreamName: 'ecs/app/abc', logEvents: [] } },
};

/**
 * Calls the agent makes that the instance role does not allow, as in ECS: each needs a permission the operator adds
 * (or the task's own role), and the agent degrades without it (docs/agent.md, "Credentials and the instance role").
 */
const BEYOND_THE_ROLE: Record<string, Call> = {
  // ECS: awslogs-create-group needs logs:CreateLogGroup added to the role.
  'CreateLogGroup for a missing group': { declaration: logsActions.CreateLogGroup!, input: { logGroupName: '/ecs/app' } },
  // ECS's agent makes these with the task role's credentials, never the instance's.
  'GetTaskProtection': { declaration: ecsActions.GetTaskProtection!, input: { cluster: 'prod', tasks: [TASK] } },
  'UpdateTaskProtection': { declaration: ecsActions.UpdateTaskProtection!, input: { cluster: 'prod', tasks: [TASK], protectionEnabled: true } },
};

async function decide(policyTexts: readonly string[], call: Call): Promise<string> {
  const authorizer = new Authorizer({ policies: new MemoryPolicySource().set(AGENT, policyTexts.map((t) => parsePolicyDocument(t, 'identity'))), scope });
  try {
    await authorizer.authorize({ principal: agent, declaration: call.declaration, input: call.input, sourceIp: '10.0.0.7', secureTransport: false });
    return 'allowed';
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).type).toBe('AccessDeniedException');
    return (error as Error).message;
  }
}

describe('AmazonEC2ContainerServiceforEC2Role covers what the agent does', () => {
  it.each(Object.entries(AGENT_CALLS))('allows %s', async (_what, call) => {
    expect(await decide([ROLE.document], call)).toBe('allowed');
  });

  it.each(Object.entries(AGENT_CALLS))('without it refuses %s, naming the action', async (_what, call) => {
    expect(await decide([], call)).toMatch(new RegExp(`^User: ${AGENT} is not authorized to perform: ${call.declaration.action} on resource: `));
  });

  it.each(Object.entries(BEYOND_THE_ROLE))('does not allow %s (as in ECS: it needs more than the role)', async (_what, call) => {
    expect(await decide([ROLE.document], call)).toMatch(/because no identity-based policy allows/);
  });

  it('a Deny on ecs:RegisterContainerInstance beside the managed policy refuses registration, and only that', async () => {
    const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ecs:RegisterContainerInstance', Resource: '*' }] });
    expect(await decide([ROLE.document, deny], AGENT_CALLS['RegisterContainerInstance (registration.ts)']!)).toMatch(/with an explicit deny in an identity-based policy$/);
    expect(await decide([ROLE.document, deny], AGENT_CALLS['the session upgrade (session-client.ts)']!)).toBe('allowed');
  });
});
