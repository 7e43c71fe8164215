import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, ErrorScope, arn, clusterFacts, keyOf, keyStatement, nonEmpty } from './private/statements';

/**
 * Properties of `KarpenterPermissions`.
 */
export interface KarpenterPermissionsProps {
  /**
   * The cluster Karpenter provisions nodes for (its `settings.clusterName`). Its name goes into the
   * tag conditions (`kubernetes.io/cluster/<name>`, `eks:eks-cluster-name`), so it must be known at
   * synth time; its region scopes the EC2 and SSM resources.
   */
  readonly cluster: IClusterRef;

  /**
   * The roles of the nodes Karpenter launches (the `role` of your EC2NodeClasses): the only roles
   * it may pass to EC2 (`iam:PassRole`) and add to the instance profiles it creates.
   */
  readonly nodeRoles: iam.IRole[];

  /**
   * The SQS queue of interruption events (the chart's `settings.interruptionQueue`): Karpenter
   * receives and deletes its messages, and decrypts them when the queue has a KMS key of this app.
   *
   * @default - no interruption handling
   */
  readonly interruptionQueue?: sqs.IQueue;
}

/**
 * The permissions of Karpenter (the AWS provider), version 1.
 *
 * Follows the controller policies of aws/karpenter-provider-aws
 * `website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml` at
 * v1.14.1 (NodeLifecyclePolicy, IAMIntegrationPolicy, EKSIntegrationPolicy, InterruptionPolicy,
 * ZonalShiftPolicy, ResourceDiscoveryPolicy), statement by statement, in the cluster's region:
 * instances, fleets, launch templates and their volumes and interfaces only with the cluster's tags
 * (`kubernetes.io/cluster/<cluster>: owned`, `eks:eks-cluster-name`, a `karpenter.sh/nodepool`);
 * `iam:PassRole` on the node roles you name only, to EC2 only; instance profiles created, tagged,
 * changed and deleted only with the cluster's and region's tags, as upstream scopes them; the
 * interruption queue you name. Upstream's `*` stays where it must: the Describe actions (only in
 * the cluster's region), `pricing:GetProducts` and `iam:ListInstanceProfiles` take no resource; the
 * AMIs, snapshots, subnets and security groups an instance is launched from belong to other
 * accounts or to the VPC, not to Karpenter. Namespace `kube-system` and service account
 * `karpenter`: the chart `charts/karpenter` at v1.14.1, release `karpenter`, in the namespace the
 * getting-started guide uses.
 */
export class KarpenterPermissions extends ControllerPermissions {
  private readonly props: KarpenterPermissionsProps;

  public constructor(props: KarpenterPermissionsProps) {
    super({
      controllerName: 'Karpenter',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'karpenter',
      upstream: { source: 'aws/karpenter-provider-aws website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml', version: 'v1.14.1' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { nodeRoles, interruptionQueue } = this.props;
    nonEmpty(where, 'KarpenterPermissions', 'nodeRoles', nodeRoles, 'roles of the nodes Karpenter launches (the role of each EC2NodeClass)');
    const cluster = clusterFacts(where, 'KarpenterPermissions', this.props.cluster, true);
    const region = cluster.region;
    const ec2 = (resource: string, account = '*') => arn('ec2', region, account, resource);
    const instanceProfiles = arn('iam', '', CREDENTIALS_ACCOUNT, 'instance-profile/*');
    const owned = `kubernetes.io/cluster/${cluster.name}`;
    const launched = [
      ec2('fleet/*'),
      ec2('instance/*'),
      ec2('volume/*'),
      ec2('network-interface/*'),
      ec2('launch-template/*'),
      ec2('spot-instances-request/*'),
    ];
    const requestTagged = { [`aws:RequestTag/${owned}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': cluster.name };
    const tagScoped = 'Instances, fleets, launch templates and instance profiles Karpenter creates, which exist only once created: scoped by the tags of this cluster, as upstream.';

    return [
      // NodeLifecyclePolicy
      {
        actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
        resources: [
          ec2('image/*', ''),
          ec2('snapshot/*', ''),
          ec2('security-group/*'),
          ec2('subnet/*'),
          ec2('capacity-reservation/*'),
          ec2('placement-group/*'),
        ],
        wildcardReason: 'The AMIs, snapshots, subnets, security groups, capacity reservations and placement groups an instance is launched from, chosen by EC2NodeClass selectors at run time; in the cluster\'s region.',
      },
      {
        actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
        resources: [ec2('launch-template/*')],
        conditions: { StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned' }, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
        wildcardReason: tagScoped,
      },
      {
        actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
        resources: launched,
        conditions: { StringEquals: requestTagged, StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' } },
        wildcardReason: tagScoped,
      },
      {
        actions: ['ec2:CreateTags'],
        resources: launched,
        conditions: {
          StringEquals: { ...requestTagged, 'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] },
          StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
        },
        wildcardReason: tagScoped,
      },
      {
        actions: ['ec2:CreateTags'],
        resources: [ec2('instance/*')],
        conditions: {
          'StringEquals': { [`aws:ResourceTag/${owned}`]: 'owned' },
          'StringLike': { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
          'StringEqualsIfExists': { 'aws:RequestTag/eks:eks-cluster-name': cluster.name },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
        },
        wildcardReason: tagScoped,
      },
      {
        actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
        resources: [ec2('instance/*'), ec2('launch-template/*')],
        conditions: { StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned' }, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
        wildcardReason: tagScoped,
      },
      // IAMIntegrationPolicy
      {
        actions: ['iam:PassRole'],
        resources: nodeRoles.map(role => role.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] } },
      },
      {
        actions: ['iam:CreateInstanceProfile'],
        resources: [instanceProfiles],
        conditions: {
          StringEquals: { ...requestTagged, 'aws:RequestTag/topology.kubernetes.io/region': region },
          StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
        },
        wildcardReason: tagScoped,
      },
      {
        actions: ['iam:TagInstanceProfile'],
        resources: [instanceProfiles],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${owned}`]: 'owned',
            'aws:ResourceTag/topology.kubernetes.io/region': region,
            ...requestTagged,
            'aws:RequestTag/topology.kubernetes.io/region': region,
          },
          StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*', 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
        },
        wildcardReason: tagScoped,
      },
      {
        actions: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
        resources: [instanceProfiles],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${owned}`]: 'owned', 'aws:ResourceTag/topology.kubernetes.io/region': region },
          StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
        },
        wildcardReason: tagScoped,
      },
      // EKSIntegrationPolicy
      { actions: ['eks:DescribeCluster'], resources: [cluster.arn] },
      // InterruptionPolicy
      ...interruptionQueue ? [
        { actions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], resources: [interruptionQueue.queueArn] },
        ...keyStatement([keyOf(interruptionQueue)], ['kms:Decrypt']),
      ] : [],
      // ZonalShiftPolicy
      {
        actions: ['arc-zonal-shift:GetManagedResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'arc-zonal-shift:ResourceIdentifier': cluster.arn } },
        wildcardReason: 'arc-zonal-shift:GetManagedResource is scoped by its resource identifier condition, the cluster\'s ARN.',
      },
      // ResourceDiscoveryPolicy
      {
        actions: [
          'ec2:DescribeCapacityReservations',
          'ec2:DescribeImages',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceStatus',
          'ec2:DescribeInstanceTypeOfferings',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplates',
          'ec2:DescribePlacementGroups',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSpotPriceHistory',
          'ec2:DescribeSubnets',
        ],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': region } },
        wildcardReason: 'Describe actions take no resource; only in the cluster\'s region.',
      },
      {
        actions: ['ssm:GetParameter'],
        resources: [arn('ssm', region, '', 'parameter/aws/service/*')],
        wildcardReason: 'The public parameters of AWS (parameter/aws/service/*), where the AMI ids of the EKS-optimized images are published.',
      },
      {
        actions: ['pricing:GetProducts'],
        resources: ['*'],
        wildcardReason: 'pricing:GetProducts takes no resource.',
      },
      {
        actions: ['iam:ListInstanceProfiles'],
        resources: ['*'],
        wildcardReason: 'iam:ListInstanceProfiles takes no resource.',
      },
      {
        actions: ['iam:GetInstanceProfile'],
        resources: [instanceProfiles],
        wildcardReason: 'The instance profiles Karpenter creates have generated names; reading one reveals no more than ListInstanceProfiles.',
      },
    ];
  }
}
