/**
 * The AWS managed policies ECS users attach, with AWS's documents: the default version AWS served on the date in
 * `updateDate` (as `aws iam get-policy-version` returns it and the AWS Managed Policy Reference publishes it,
 * docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html). berth serves them read-only under their
 * real ARNs, `arn:aws:iam::aws:policy<path><name>`. AWS revises these; AmazonECS_FullAccess has since gained a
 * v22 (September 2026) that this table does not have yet: the mirror berth's documents come from (MAMIP, see
 * managed/read-only-access.ts) ends in March 2026 at v21.
 *
 * ReadOnlyAccess is AWS's largest policy (v178: 2,677 actions of 305 services in two statements); its document is
 * data kept in managed/read-only-access.ts, whole, so that it allows what AWS's allows for every service.
 */
import { READ_ONLY_ACCESS_VERSION } from './managed/read-only-access.js';

/** One AWS managed policy. */
export interface ManagedPolicy {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  /** AWS's policy id (ANPA…). */
  readonly policyId: string;
  readonly description: string;
  readonly defaultVersionId: string;
  readonly createDate: string;
  readonly updateDate: string;
  /** The default version's document, as JSON text (for parsePolicyDocument and GetPolicyVersion). */
  readonly document: string;
}

type Doc = { readonly Version: string; readonly Statement: readonly object[] };

const policy = (
  name: string,
  path: string,
  policyId: string,
  description: string,
  defaultVersionId: string,
  createDate: string,
  updateDate: string,
  doc: Doc,
): ManagedPolicy => ({
  name,
  arn: `arn:aws:iam::aws:policy${path}${name}`,
  path,
  policyId,
  description,
  defaultVersionId,
  createDate,
  updateDate,
  document: JSON.stringify(doc, null, 4),
});

/** Every managed policy berth ships, by name. */
export const MANAGED_POLICIES: ReadonlyMap<string, ManagedPolicy> = new Map(
  [
    policy(
      'AdministratorAccess',
      '/',
      'ANPAIWMBCKSKIEE64ZLYK',
      "Provides full access to AWS services and resources.",
      'v1',
      '2015-02-06T18:39:46Z',
      '2015-02-06T18:39:46Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": "*",
            "Resource": "*",
            "Effect": "Allow"
          }
        ]
      },
    ),
    policy(
      'ReadOnlyAccess',
      '/',
      'ANPAILL3HVNFSB6DCOWYQ',
      "Provides read-only access to AWS services and resources.",
      READ_ONLY_ACCESS_VERSION.VersionId,
      '2015-02-06T18:39:48Z',
      READ_ONLY_ACCESS_VERSION.CreateDate,
      READ_ONLY_ACCESS_VERSION.Document,
    ),
    policy(
      'AmazonECS_FullAccess',
      '/',
      'ANPAJ7S7AN6YQPTJC7IFS',
      "Provides administrative access to Amazon ECS resources and enables ECS features through access to other AWS service resources, including VPCs, Auto Scaling groups, and CloudFormation stacks.",
      'v21',
      '2017-11-07T21:36:54Z',
      '2024-08-13T19:39:37Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": [
              "application-autoscaling:DeleteScalingPolicy",
              "application-autoscaling:DeregisterScalableTarget",
              "application-autoscaling:DescribeScalableTargets",
              "application-autoscaling:DescribeScalingActivities",
              "application-autoscaling:DescribeScalingPolicies",
              "application-autoscaling:PutScalingPolicy",
              "application-autoscaling:RegisterScalableTarget",
              "appmesh:DescribeVirtualGateway",
              "appmesh:DescribeVirtualNode",
              "appmesh:ListMeshes",
              "appmesh:ListVirtualGateways",
              "appmesh:ListVirtualNodes",
              "autoscaling:CreateAutoScalingGroup",
              "autoscaling:CreateLaunchConfiguration",
              "autoscaling:DeleteAutoScalingGroup",
              "autoscaling:DeleteLaunchConfiguration",
              "autoscaling:Describe*",
              "autoscaling:UpdateAutoScalingGroup",
              "cloudformation:CreateStack",
              "cloudformation:DeleteStack",
              "cloudformation:DescribeStack*",
              "cloudformation:UpdateStack",
              "cloudwatch:DeleteAlarms",
              "cloudwatch:DescribeAlarms",
              "cloudwatch:GetMetricStatistics",
              "cloudwatch:PutMetricAlarm",
              "codedeploy:BatchGetApplicationRevisions",
              "codedeploy:BatchGetApplications",
              "codedeploy:BatchGetDeploymentGroups",
              "codedeploy:BatchGetDeployments",
              "codedeploy:ContinueDeployment",
              "codedeploy:CreateApplication",
              "codedeploy:CreateDeployment",
              "codedeploy:CreateDeploymentGroup",
              "codedeploy:GetApplication",
              "codedeploy:GetApplicationRevision",
              "codedeploy:GetDeployment",
              "codedeploy:GetDeploymentConfig",
              "codedeploy:GetDeploymentGroup",
              "codedeploy:GetDeploymentTarget",
              "codedeploy:ListApplicationRevisions",
              "codedeploy:ListApplications",
              "codedeploy:ListDeploymentConfigs",
              "codedeploy:ListDeploymentGroups",
              "codedeploy:ListDeployments",
              "codedeploy:ListDeploymentTargets",
              "codedeploy:RegisterApplicationRevision",
              "codedeploy:StopDeployment",
              "ec2:AssociateRouteTable",
              "ec2:AttachInternetGateway",
              "ec2:AuthorizeSecurityGroupIngress",
              "ec2:CancelSpotFleetRequests",
              "ec2:CreateInternetGateway",
              "ec2:CreateLaunchTemplate",
              "ec2:CreateRoute",
              "ec2:CreateRouteTable",
              "ec2:CreateSecurityGroup",
              "ec2:CreateSubnet",
              "ec2:CreateVpc",
              "ec2:DeleteLaunchTemplate",
              "ec2:DeleteSubnet",
              "ec2:DeleteVpc",
              "ec2:Describe*",
              "ec2:DetachInternetGateway",
              "ec2:DisassociateRouteTable",
              "ec2:ModifySubnetAttribute",
              "ec2:ModifyVpcAttribute",
              "ec2:RequestSpotFleet",
              "ec2:RunInstances",
              "ecs:*",
              "elasticfilesystem:DescribeAccessPoints",
              "elasticfilesystem:DescribeFileSystems",
              "elasticloadbalancing:CreateListener",
              "elasticloadbalancing:CreateLoadBalancer",
              "elasticloadbalancing:CreateRule",
              "elasticloadbalancing:CreateTargetGroup",
              "elasticloadbalancing:DeleteListener",
              "elasticloadbalancing:DeleteLoadBalancer",
              "elasticloadbalancing:DeleteRule",
              "elasticloadbalancing:DeleteTargetGroup",
              "elasticloadbalancing:DescribeListeners",
              "elasticloadbalancing:DescribeLoadBalancers",
              "elasticloadbalancing:DescribeRules",
              "elasticloadbalancing:DescribeTargetGroups",
              "events:DeleteRule",
              "events:DescribeRule",
              "events:ListRuleNamesByTarget",
              "events:ListTargetsByRule",
              "events:PutRule",
              "events:PutTargets",
              "events:RemoveTargets",
              "fsx:DescribeFileSystems",
              "iam:ListAttachedRolePolicies",
              "iam:ListInstanceProfiles",
              "iam:ListRoles",
              "lambda:ListFunctions",
              "logs:CreateLogGroup",
              "logs:DescribeLogGroups",
              "logs:FilterLogEvents",
              "route53:CreateHostedZone",
              "route53:DeleteHostedZone",
              "route53:GetHealthCheck",
              "route53:GetHostedZone",
              "route53:ListHostedZonesByName",
              "servicediscovery:CreatePrivateDnsNamespace",
              "servicediscovery:CreateService",
              "servicediscovery:DeleteService",
              "servicediscovery:GetNamespace",
              "servicediscovery:GetOperation",
              "servicediscovery:GetService",
              "servicediscovery:ListNamespaces",
              "servicediscovery:ListServices",
              "servicediscovery:UpdateService",
              "sns:ListTopics"
            ],
            "Resource": [
              "*"
            ],
            "Effect": "Allow",
            "Sid": "ECSIntegrationsManagementPolicy"
          },
          {
            "Action": [
              "ssm:GetParameter",
              "ssm:GetParameters",
              "ssm:GetParametersByPath"
            ],
            "Resource": "arn:aws:ssm:*:*:parameter/aws/service/ecs*",
            "Effect": "Allow",
            "Sid": "SSMPolicy"
          },
          {
            "Action": [
              "ec2:DeleteInternetGateway",
              "ec2:DeleteRoute",
              "ec2:DeleteRouteTable",
              "ec2:DeleteSecurityGroup"
            ],
            "Resource": [
              "*"
            ],
            "Effect": "Allow",
            "Condition": {
              "StringLike": {
                "ec2:ResourceTag/aws:cloudformation:stack-name": "EC2ContainerService-*"
              }
            },
            "Sid": "ManagedCloudformationResourcesCleanupPolicy"
          },
          {
            "Action": "iam:PassRole",
            "Resource": [
              "*"
            ],
            "Effect": "Allow",
            "Condition": {
              "StringLike": {
                "iam:PassedToService": "ecs-tasks.amazonaws.com"
              }
            },
            "Sid": "TasksPassRolePolicy"
          },
          {
            "Action": "iam:PassRole",
            "Resource": [
              "arn:aws:iam::*:role/ecsInfrastructureRole"
            ],
            "Effect": "Allow",
            "Condition": {
              "StringEquals": {
                "iam:PassedToService": "ecs.amazonaws.com"
              }
            },
            "Sid": "InfrastructurePassRolePolicy"
          },
          {
            "Action": "iam:PassRole",
            "Resource": [
              "arn:aws:iam::*:role/ecsInstanceRole*"
            ],
            "Effect": "Allow",
            "Condition": {
              "StringLike": {
                "iam:PassedToService": [
                  "ec2.amazonaws.com",
                  "ec2.amazonaws.com.cn"
                ]
              }
            },
            "Sid": "InstancePassRolePolicy"
          },
          {
            "Action": "iam:PassRole",
            "Resource": [
              "arn:aws:iam::*:role/ecsAutoscaleRole*"
            ],
            "Effect": "Allow",
            "Condition": {
              "StringLike": {
                "iam:PassedToService": [
                  "application-autoscaling.amazonaws.com",
                  "application-autoscaling.amazonaws.com.cn"
                ]
              }
            },
            "Sid": "AutoScalingPassRolePolicy"
          },
          {
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Effect": "Allow",
            "Condition": {
              "StringLike": {
                "iam:AWSServiceName": [
                  "ecs.amazonaws.com",
                  "autoscaling.amazonaws.com",
                  "ecs.application-autoscaling.amazonaws.com",
                  "spot.amazonaws.com",
                  "spotfleet.amazonaws.com"
                ]
              }
            },
            "Sid": "ServiceLinkedRoleCreationPolicy"
          },
          {
            "Action": [
              "elasticloadbalancing:AddTags"
            ],
            "Resource": "*",
            "Effect": "Allow",
            "Condition": {
              "StringEquals": {
                "elasticloadbalancing:CreateAction": [
                  "CreateTargetGroup",
                  "CreateRule",
                  "CreateListener",
                  "CreateLoadBalancer"
                ]
              }
            },
            "Sid": "ELBTaggingPolicy"
          }
        ]
      },
    ),
    policy(
      'AmazonECSTaskExecutionRolePolicy',
      '/service-role/',
      'ANPAJG4T4G4PV56DE72PY',
      "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
      'v1',
      '2017-11-16T18:48:22Z',
      '2017-11-16T18:48:22Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": [
              "ecr:GetAuthorizationToken",
              "ecr:BatchCheckLayerAvailability",
              "ecr:GetDownloadUrlForLayer",
              "ecr:BatchGetImage",
              "logs:CreateLogStream",
              "logs:PutLogEvents"
            ],
            "Resource": "*",
            "Effect": "Allow"
          }
        ]
      },
    ),
    policy(
      'AmazonEC2ContainerServiceforEC2Role',
      '/service-role/',
      'ANPAJLYJCVHC7TQHCSQDS',
      "Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.",
      'v10',
      '2015-03-19T18:45:18Z',
      '2026-02-12T17:59:52Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": [
              "ec2:DescribeTags",
              "ecs:CreateCluster",
              "ecs:DeregisterContainerInstance",
              "ecs:DiscoverPollEndpoint",
              "ecs:Poll",
              "ecs:RegisterContainerInstance",
              "ecs:StartTelemetrySession",
              "ecs:UpdateContainerInstancesState",
              "ecs:Submit*",
              "ecr:GetAuthorizationToken",
              "ecr:BatchCheckLayerAvailability",
              "ecr:GetDownloadUrlForLayer",
              "ecr:BatchGetImage",
              "logs:CreateLogStream",
              "logs:PutLogEvents"
            ],
            "Resource": "*",
            "Effect": "Allow"
          },
          {
            "Action": "ecs:TagResource",
            "Resource": "*",
            "Effect": "Allow",
            "Condition": {
              "StringEquals": {
                "ecs:CreateAction": [
                  "CreateCluster",
                  "RegisterContainerInstance"
                ]
              }
            }
          },
          {
            "Action": [
              "ecs:ListTagsForResource"
            ],
            "Resource": [
              "arn:aws:ecs:*:*:task/*/*",
              "arn:aws:ecs:*:*:container-instance/*/*"
            ],
            "Effect": "Allow"
          }
        ]
      },
    ),
    policy(
      'AmazonEC2ContainerRegistryReadOnly',
      '/',
      'ANPAIFYZPA37OOHVIH7KQ',
      "Provides read-only access to Amazon EC2 Container Registry repositories.",
      'v3',
      '2015-12-21T17:04:15Z',
      '2019-12-10T20:56:32Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": [
              "ecr:GetAuthorizationToken",
              "ecr:BatchCheckLayerAvailability",
              "ecr:GetDownloadUrlForLayer",
              "ecr:GetRepositoryPolicy",
              "ecr:DescribeRepositories",
              "ecr:ListImages",
              "ecr:DescribeImages",
              "ecr:BatchGetImage",
              "ecr:GetLifecyclePolicy",
              "ecr:GetLifecyclePolicyPreview",
              "ecr:ListTagsForResource",
              "ecr:DescribeImageScanFindings"
            ],
            "Resource": "*",
            "Effect": "Allow"
          }
        ]
      },
    ),
    policy(
      'CloudWatchLogsFullAccess',
      '/',
      'ANPAJ3ZGNWK2R5HW5BQFO',
      "Provides full access to CloudWatch Logs",
      'v8',
      '2015-02-06T18:40:02Z',
      '2026-02-12T18:00:33Z',
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Action": [
              "logs:*",
              "cloudwatch:GenerateQuery",
              "cloudwatch:GenerateQueryResultsSummary",
              "observabilityadmin:GetS3TableIntegration",
              "observabilityadmin:ListS3TableIntegrations",
              "observabilityadmin:ListTelemetryPipelines"
            ],
            "Resource": "*",
            "Effect": "Allow",
            "Sid": "CloudWatchLogsFullAccess"
          }
        ]
      },
    ),
  ].map((p) => [p.name, p] as const),
);

/** The managed policy with this ARN, if berth ships it. */
export function managedPolicyByArn(arn: string): ManagedPolicy | undefined {
  for (const p of MANAGED_POLICIES.values()) if (p.arn === arn) return p;
  return undefined;
}
