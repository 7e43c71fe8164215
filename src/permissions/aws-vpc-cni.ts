import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, arn, clusterFacts } from './private/statements';

/**
 * Properties of `AwsVpcCniPermissions`.
 */
export interface AwsVpcCniPermissionsProps {
  /**
   * The cluster. The plugin tags the network interfaces it creates with
   * `cluster.k8s.amazonaws.com/name: <cluster name>` when `aws-node` runs with `CLUSTER_NAME` set
   * (upstream's prerequisite of the scoped policy); the nodes carry
   * `kubernetes.io/cluster/<cluster name>: owned`. Its name must be known at synth time.
   */
  readonly cluster: IClusterRef;

  /**
   * The cluster's VPC: the plugin creates network interfaces only in its subnets and security groups.
   */
  readonly vpc: ec2.IVpc;

  /**
   * The cluster runs IPv6: the plugin assigns IPv6 prefixes to the nodes' interfaces instead of
   * creating interfaces. Upstream publishes no scoped policy for IPv6, so the statements are its
   * generic IPv6 policy, and `cluster` and `vpc` scope nothing.
   *
   * @default false - IPv4, with upstream's policy scoped to the cluster and VPC
   */
  readonly ipv6?: boolean;
}

/**
 * The permissions of the Amazon VPC CNI plugin (`aws-node`).
 *
 * Follows aws/amazon-vpc-cni-k8s `docs/iam-policy.md` at v1.23.0. For IPv4, its "scope-down IAM
 * policy per EKS cluster": network interfaces created only with the cluster's tag and only in the
 * cluster's VPC; changed, attached and deleted only when tagged for the cluster; attached only to
 * instances tagged `kubernetes.io/cluster/<cluster>: owned`. The Describe actions are on `*` (they
 * take no resource), with `ec2:DescribeSecurityGroups`, which the generic policy gained in 00fe9f4
 * and the scoped sample lacks; `ec2:CreateTags` is on every network interface, as upstream, since the
 * plugin tags the interfaces the instances were launched with. For IPv6 (`ipv6: true`), its generic
 * IPv6 policy. Namespace `kube-system` and service account `aws-node`: the plugin's chart
 * (`charts/aws-vpc-cni` at v1.23.0) and the EKS add-on.
 */
export class AwsVpcCniPermissions extends ControllerPermissions {
  private readonly props: AwsVpcCniPermissionsProps;

  public constructor(props: AwsVpcCniPermissionsProps) {
    super({
      controllerName: 'Amazon VPC CNI plugin',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'aws-node',
      upstream: { source: 'aws/amazon-vpc-cni-k8s docs/iam-policy.md', version: 'v1.23.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const interfaces = arn('ec2', '*', '*', 'network-interface/*');
    const tagInterfaces: ControllerStatement = {
      actions: ['ec2:CreateTags'],
      resources: [interfaces],
      wildcardReason: 'The plugin tags the network interfaces it creates and those the instances were launched with, which it does not create.',
    };
    if (this.props.ipv6) {
      return [
        {
          actions: ['ec2:AssignIpv6Addresses', 'ec2:DescribeInstances', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes'],
          resources: ['*'],
          wildcardReason: 'Describe actions take no resource; the plugin assigns IPv6 prefixes to the interfaces the nodes were launched with (upstream\'s generic IPv6 policy: it publishes no scoped one).',
        },
        tagInterfaces,
      ];
    }
    const cluster = clusterFacts(where, 'AwsVpcCniPermissions', this.props.cluster, true);
    const taggedForCluster = 'Network interfaces the plugin creates and the instances of the cluster, scoped by upstream\'s tag conditions for this cluster.';
    return [
      {
        actions: ['ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource.',
      },
      tagInterfaces,
      {
        actions: ['ec2:CreateNetworkInterface'],
        resources: [interfaces],
        conditions: { StringEquals: { 'aws:RequestTag/cluster.k8s.amazonaws.com/name': cluster.name } },
        wildcardReason: taggedForCluster,
      },
      {
        actions: ['ec2:CreateNetworkInterface'],
        resources: [arn('ec2', '*', '*', 'subnet/*'), arn('ec2', '*', '*', 'security-group/*')],
        conditions: { ArnEquals: { 'ec2:Vpc': arn('ec2', '*', '*', `vpc/${this.props.vpc.vpcId}`) } },
        wildcardReason: 'The subnets and security groups of the cluster\'s VPC, scoped by the ec2:Vpc condition.',
      },
      {
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:UnassignPrivateIpAddresses',
          'ec2:AssignPrivateIpAddresses',
          'ec2:AttachNetworkInterface',
          'ec2:DetachNetworkInterface',
          'ec2:ModifyNetworkInterfaceAttribute',
        ],
        resources: [interfaces],
        conditions: { StringEquals: { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': cluster.name } },
        wildcardReason: taggedForCluster,
      },
      {
        actions: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute'],
        resources: [arn('ec2', '*', '*', 'instance/*')],
        conditions: { StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${cluster.name}`]: 'owned' } },
        wildcardReason: taggedForCluster,
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        resources: [arn('ec2', '*', '*', 'security-group/*')],
        wildcardReason: 'Changing an interface\'s security groups names them as resources; upstream\'s scoped policy grants it on every security group.',
      },
    ];
  }
}
