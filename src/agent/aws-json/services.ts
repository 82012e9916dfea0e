import type * as ecr from '@aws-sdk/client-ecr';
import type * as ecs from '@aws-sdk/client-ecs';
import type * as logs from '@aws-sdk/client-cloudwatch-logs';
import type * as sm from '@aws-sdk/client-secrets-manager';
import type * as ssm from '@aws-sdk/client-ssm';
import type { AwsJsonClient, JsonService, SdkOperation } from './client.js';

/**
 * The control plane's services the agent calls, and the actions it calls on each, typed with the AWS SDK's
 * shapes (type-only imports: nothing of the SDK is loaded at run time). Outputs are as they arrive (Wire):
 * timestamps are epoch seconds.
 */

export const ECS: JsonService<EcsOperations> = { targetPrefix: 'AmazonEC2ContainerServiceV20141113', signingName: 'ecs', jsonVersion: '1.1' };
export const ECR: JsonService<EcrOperations> = { targetPrefix: 'AmazonEC2ContainerRegistry_V20150921', signingName: 'ecr', jsonVersion: '1.1' };
export const LOGS: JsonService<LogsOperations> = { targetPrefix: 'Logs_20140328', signingName: 'logs', jsonVersion: '1.1' };
export const SECRETS_MANAGER: JsonService<SecretsManagerOperations> = { targetPrefix: 'secretsmanager', signingName: 'secretsmanager', jsonVersion: '1.1' };
/** berth's own: how to mount an EFS file system for a task (efs/client-mount.ts on the server). */
export const BERTH_STORAGE: JsonService<BerthStorageOperations> = { targetPrefix: 'BerthStorageNode', signingName: 'elasticfilesystem', jsonVersion: '1.1' };
export const SSM: JsonService<SsmOperations> = { targetPrefix: 'AmazonSSM', signingName: 'ssm', jsonVersion: '1.1' };

export interface EcsOperations {
  CreateCluster: SdkOperation<ecs.CreateClusterRequest, ecs.CreateClusterResponse>;
  RegisterContainerInstance: SdkOperation<ecs.RegisterContainerInstanceRequest, ecs.RegisterContainerInstanceResponse>;
  SubmitTaskStateChange: SdkOperation<ecs.SubmitTaskStateChangeRequest, ecs.SubmitTaskStateChangeResponse>;
  ListTagsForResource: SdkOperation<ecs.ListTagsForResourceRequest, ecs.ListTagsForResourceResponse>;
  GetTaskProtection: SdkOperation<ecs.GetTaskProtectionRequest, ecs.GetTaskProtectionResponse>;
  UpdateTaskProtection: SdkOperation<ecs.UpdateTaskProtectionRequest, ecs.UpdateTaskProtectionResponse>;
  DescribeServices: SdkOperation<ecs.DescribeServicesRequest, ecs.DescribeServicesResponse>;
  ListServices: SdkOperation<ecs.ListServicesRequest, ecs.ListServicesResponse>;
  ListServicesByNamespace: SdkOperation<ecs.ListServicesByNamespaceRequest, ecs.ListServicesByNamespaceResponse>;
  ListTasks: SdkOperation<ecs.ListTasksRequest, ecs.ListTasksResponse>;
  DescribeTasks: SdkOperation<ecs.DescribeTasksRequest, ecs.DescribeTasksResponse>;
  DescribeTaskDefinition: SdkOperation<ecs.DescribeTaskDefinitionRequest, ecs.DescribeTaskDefinitionResponse>;
  DescribeContainerInstances: SdkOperation<ecs.DescribeContainerInstancesRequest, ecs.DescribeContainerInstancesResponse>;
}

export interface EcrOperations {
  GetAuthorizationToken: SdkOperation<ecr.GetAuthorizationTokenRequest, ecr.GetAuthorizationTokenResponse>;
}

export interface LogsOperations {
  PutLogEvents: SdkOperation<logs.PutLogEventsRequest, logs.PutLogEventsResponse>;
  CreateLogGroup: SdkOperation<logs.CreateLogGroupRequest, object>;
  CreateLogStream: SdkOperation<logs.CreateLogStreamRequest, object>;
}

export interface BerthStorageOperations {
  ResolveMount: { input: import('../efs-mounts.js').MountRequest; output: import('../efs-mounts.js').MountPlan };
  IssueAgentCertificate: { input: { ContainerInstanceArn: string; Csr: string }; output: { Certificate?: string; CaCertificate?: string } };
}

export interface SecretsManagerOperations {
  GetSecretValue: SdkOperation<sm.GetSecretValueRequest, sm.GetSecretValueResponse>;
}

export interface SsmOperations {
  GetParameters: SdkOperation<ssm.GetParametersRequest, ssm.GetParametersResult>;
}

export type EcsClient = AwsJsonClient<EcsOperations>;
export type EcrClient = AwsJsonClient<EcrOperations>;
export type LogsClient = AwsJsonClient<LogsOperations>;
export type BerthStorageClient = AwsJsonClient<BerthStorageOperations>;
/** What the log shipper calls: a LogsClient, or anything that sends as one (tests wrap one). */
export type LogsApi = Pick<LogsClient, 'send'>;
