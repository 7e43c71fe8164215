import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { KarpenterPermissions } from '../../../src';
import { arnOf, Call, CLUSTER_ACCOUNT, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Karpenter v1.14.1, pkg/providers: the instance profile of an EC2NodeClass (instanceprofile:
 * CreateInstanceProfile with the cluster's tags, AddRoleToInstanceProfile of the node role, which
 * needs iam:PassRole), its launch template (launchtemplate: CreateLaunchTemplate with the tags), a
 * node launched by CreateFleet (instance: the fleet, the instance, its volume and interface with
 * the tags, from the launch template, AMI, subnet and security group; tagged on create), the
 * nodeclaim's tags written after launch (tagging controller), discovery (Describe*, SSM's public
 * AMI parameters, pricing), the interruption queue, and termination. The public SSM parameters
 * of AMIs have ARNs without an account (arn:aws:ssm:<region>::parameter/aws/service/...), which the
 * evaluator's ARN patterns do not accept: that statement is pinned by the synth test only.
 */
const NODEPOOL = { 'aws:RequestTag/karpenter.sh/nodepool': 'default' };

function launchTags(clusterName: string): Record<string, string | string[]> {
  return {
    [`aws:RequestTag/kubernetes.io/cluster/${clusterName}`]: 'owned',
    'aws:RequestTag/eks:eks-cluster-name': clusterName,
    ...NODEPOOL,
    'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': 'default',
    'aws:TagKeys': [`kubernetes.io/cluster/${clusterName}`, 'eks:eks-cluster-name', 'karpenter.sh/nodepool', 'karpenter.k8s.aws/ec2nodeclass'],
  };
}

export const karpenter: Scenario = {
  name: 'KarpenterPermissions',
  build: ({ landing, cluster, account }): ScenarioBuild => {
    const ec2 = (resource: string, owner = account) => arnOf('ec2', REGION, owner, resource);
    const nodeRole = `arn:aws:iam::${account}:role/KarpenterNodeRole-prod`;
    const queue = arnOf('sqs', REGION, account, 'prod');
    const profile = `arn:aws:iam::${account}:instance-profile/prod_1234567890123456789`;
    const ours = { 'aws:ResourceTag/kubernetes.io/cluster/prod': 'owned', 'aws:ResourceTag/karpenter.sh/nodepool': 'default' };
    const profileTags = { 'aws:RequestTag/topology.kubernetes.io/region': REGION };
    const profileOwned = {
      'aws:ResourceTag/kubernetes.io/cluster/prod': 'owned',
      'aws:ResourceTag/topology.kubernetes.io/region': REGION,
      'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': 'default',
    };
    const launchTemplate = ec2('launch-template/lt-0a1b2c3d4e5f60001');
    const instance = ec2('instance/i-0a1b2c3d4e5f60001');
    const clusterArn = arnOf('eks', REGION, CLUSTER_ACCOUNT, 'cluster/prod');
    const allowed: Call[] = [
      // Discovery
      { action: 'eks:DescribeCluster', resource: clusterArn },
      { action: 'ec2:DescribeInstanceTypes', resource: '*' },
      { action: 'ec2:DescribeSubnets', resource: '*' },
      { action: 'ec2:DescribeImages', resource: '*' },
      { action: 'pricing:GetProducts', resource: '*' },
      { action: 'arc-zonal-shift:GetManagedResource', resource: '*', context: { 'arc-zonal-shift:ResourceIdentifier': clusterArn } },
      // The instance profile of the EC2NodeClass
      { action: 'iam:ListInstanceProfiles', resource: '*' },
      { action: 'iam:GetInstanceProfile', resource: profile },
      { action: 'iam:CreateInstanceProfile', resource: profile, context: { ...launchTags('prod'), ...profileTags } },
      { action: 'iam:AddRoleToInstanceProfile', resource: profile, context: profileOwned },
      { action: 'iam:PassRole', resource: nodeRole, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      // The launch template and the node
      { action: 'ec2:CreateLaunchTemplate', resource: ec2('launch-template/lt-0new000000000001'), context: launchTags('prod') },
      { action: 'ec2:CreateTags', resource: ec2('launch-template/lt-0new000000000001'), context: { 'ec2:CreateAction': 'CreateLaunchTemplate', ...launchTags('prod') } },
      { action: 'ec2:CreateFleet', resource: ec2('fleet/fleet-0a1b2c3d-1111-2222-3333-444455556666'), context: launchTags('prod') },
      { action: 'ec2:CreateFleet', resource: launchTemplate, context: ours },
      { action: 'ec2:RunInstances', resource: launchTemplate, context: ours },
      { action: 'ec2:RunInstances', resource: ec2('image/ami-0a1b2c3d4e5f60001', '') },
      { action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0a1b2c3d4e5f60001') },
      { action: 'ec2:RunInstances', resource: ec2('security-group/sg-0a1b2c3d4e5f60001') },
      { action: 'ec2:RunInstances', resource: ec2('instance/i-0new000000000001'), context: launchTags('prod') },
      { action: 'ec2:RunInstances', resource: ec2('volume/vol-0new0000000000001'), context: launchTags('prod') },
      { action: 'ec2:RunInstances', resource: ec2('network-interface/eni-0new000000000001'), context: launchTags('prod') },
      { action: 'ec2:CreateTags', resource: ec2('instance/i-0new000000000001'), context: { 'ec2:CreateAction': 'RunInstances', ...launchTags('prod') } },
      // The nodeclaim's tags, written once the node is registered
      {
        action: 'ec2:CreateTags',
        resource: instance,
        context: { ...ours, 'aws:RequestTag/karpenter.sh/nodeclaim': 'default-x7k2p', 'aws:RequestTag/Name': 'default-x7k2p', 'aws:TagKeys': ['karpenter.sh/nodeclaim', 'Name'] },
      },
      // Interruptions
      { action: 'sqs:GetQueueUrl', resource: queue },
      { action: 'sqs:ReceiveMessage', resource: queue },
      { action: 'sqs:DeleteMessage', resource: queue },
      // Termination, and the EC2NodeClass's deletion
      { action: 'ec2:TerminateInstances', resource: instance, context: ours },
      { action: 'ec2:DeleteLaunchTemplate', resource: launchTemplate, context: ours },
      { action: 'iam:RemoveRoleFromInstanceProfile', resource: profile, context: profileOwned },
      { action: 'iam:DeleteInstanceProfile', resource: profile, context: profileOwned },
    ];
    const denied: Call[] = [
      // Roles that are not the node roles, or passed elsewhere
      { action: 'iam:PassRole', resource: `arn:aws:iam::${account}:role/admin`, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      { action: 'iam:PassRole', resource: nodeRole, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      // Another cluster's nodes and launch templates
      { action: 'ec2:TerminateInstances', resource: instance, context: { 'aws:ResourceTag/kubernetes.io/cluster/staging': 'owned', 'aws:ResourceTag/karpenter.sh/nodepool': 'default' } },
      { action: 'ec2:RunInstances', resource: ec2('instance/i-0new000000000001'), context: launchTags('staging') },
      { action: 'ec2:RunInstances', resource: launchTemplate, context: { 'aws:ResourceTag/kubernetes.io/cluster/staging': 'owned', 'aws:ResourceTag/karpenter.sh/nodepool': 'default' } },
      // Instances Karpenter did not launch
      { action: 'ec2:TerminateInstances', resource: instance },
      { action: 'ec2:CreateTags', resource: instance, context: { ...ours, 'aws:RequestTag/kubernetes.io/cluster/staging': 'owned', 'aws:TagKeys': ['kubernetes.io/cluster/staging'] } },
      // Instance profiles of another cluster, region or owner
      { action: 'iam:DeleteInstanceProfile', resource: profile },
      { action: 'iam:AddRoleToInstanceProfile', resource: profile, context: { ...profileOwned, 'aws:ResourceTag/topology.kubernetes.io/region': 'us-west-2' } },
      { action: 'iam:CreateInstanceProfile', resource: profile, context: launchTags('prod') },
      // Another queue, another cluster, another region
      { action: 'sqs:ReceiveMessage', resource: arnOf('sqs', REGION, account, 'staging') },
      { action: 'eks:DescribeCluster', resource: arnOf('eks', REGION, CLUSTER_ACCOUNT, 'cluster/staging') },
      { action: 'ec2:DescribeInstances', resource: '*', context: { 'aws:RequestedRegion': 'us-west-2' } },
      { action: 'ec2:RunInstances', resource: arnOf('ec2', 'us-west-2', account, 'subnet/subnet-0a1b2c3d4e5f60001') },
    ];
    return {
      permissions: new KarpenterPermissions({
        cluster,
        nodeRoles: [iam.Role.fromRoleArn(landing, 'NodeRole', nodeRole)],
        interruptionQueue: sqs.Queue.fromQueueArn(landing, 'InterruptionQueue', queue),
      }),
      allowed,
      denied,
    };
  },
};
