/**
 * The agent session's IAM declaration. Opening an ACS session is `ecs:Poll` in ECS ("Grants permission to an agent
 * to connect with the Amazon ECS service to report status and get commands"): its resource is the container
 * instance, and it carries `ecs:cluster` (the condition CDK's instance roles put on it). Everything the agent then
 * sends on the session — acknowledgements, heartbeats, health and attachment changes — rides on that one
 * authorization, as in ECS: there is no per-frame check.
 *
 * ECS's instance role (AmazonEC2ContainerServiceforEC2Role) allows ecs:Poll on `*`; a policy naming one cluster's
 * instances (`container-instance/<cluster>/*`) or conditioned on `ecs:cluster` works as it does in AWS.
 */
import { ecsArn, type ArnScope } from '../../model/arn.js';
import type { ActionDeclaration } from '../authz/declarations.js';

/** The upgrade's query, checked: the instance's ARN (one of this account and region) and its cluster's name. */
export interface SessionRequest {
  readonly containerInstanceArn: string;
  readonly cluster: string;
}

/** `ecs:Poll` on the container instance, with `ecs:cluster` set to its cluster's ARN. */
export const pollAction: ActionDeclaration<SessionRequest> = {
  action: 'ecs:Poll',
  resources: (input) => [input.containerInstanceArn],
  context: (input, scope: ArnScope, into) => {
    into.set('ecs:cluster', ecsArn(scope, 'cluster', input.cluster));
  },
};
