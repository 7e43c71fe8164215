import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, arn, clusterFacts } from './private/statements';

/**
 * Properties of `ClusterAutoscalerPermissions`.
 */
export interface ClusterAutoscalerPermissionsProps {
  /**
   * The cluster whose Auto Scaling groups Cluster Autoscaler scales (the chart's
   * `autoDiscovery.clusterName`). It may change only the groups tagged
   * `k8s.io/cluster-autoscaler/<cluster name>`, the tag its auto-discovery looks for (EKS managed
   * node groups carry it); the name must be known at synth time.
   */
  readonly cluster: IClusterRef;
}

/**
 * The permissions of Cluster Autoscaler on AWS, with auto-discovery.
 *
 * Follows the "Full Cluster Autoscaler Features Policy" of kubernetes/autoscaler
 * `cluster-autoscaler/cloudprovider/aws/README.md` at cluster-autoscaler-1.36.1, with the scoping
 * it recommends: `autoscaling:SetDesiredCapacity` and
 * `autoscaling:TerminateInstanceInAutoScalingGroup` only on Auto Scaling groups tagged for the
 * cluster (`aws:ResourceTag/k8s.io/cluster-autoscaler/<cluster>` present), and
 * `eks:DescribeNodegroup` only on the cluster's node groups. The other Describe and Get actions are
 * on `*`: they take no resource. Namespace `kube-system` and service account
 * `cluster-autoscaler-aws-cluster-autoscaler`: the chart
 * `cluster-autoscaler/charts/cluster-autoscaler` (9.58.0, at cluster-autoscaler-1.36.1) names it
 * `<release>-aws-cluster-autoscaler`, here for release `cluster-autoscaler`.
 */
export class ClusterAutoscalerPermissions extends ControllerPermissions {
  private readonly props: ClusterAutoscalerPermissionsProps;

  public constructor(props: ClusterAutoscalerPermissionsProps) {
    super({
      controllerName: 'Cluster Autoscaler',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'cluster-autoscaler-aws-cluster-autoscaler',
      upstream: { source: 'kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md', version: 'cluster-autoscaler-1.36.1' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const cluster = clusterFacts(where, 'ClusterAutoscalerPermissions', this.props.cluster, true);
    return [
      {
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations',
          'autoscaling:DescribeScalingActivities',
          'ec2:DescribeImages',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
        ],
        resources: ['*'],
        wildcardReason: 'Describe and Get actions take no resource.',
      },
      {
        actions: ['eks:DescribeNodegroup'],
        resources: [arn('eks', cluster.region, cluster.account, `nodegroup/${cluster.name}/*/*`)],
        wildcardReason: 'The node groups of this cluster, whose names and ids Cluster Autoscaler discovers.',
      },
      {
        actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        resources: ['*'],
        conditions: { Null: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.name}`]: 'false' } },
        wildcardReason: 'Auto Scaling groups tagged for this cluster (k8s.io/cluster-autoscaler/<cluster>), the tag auto-discovery finds them by.',
      },
    ];
  }
}
