import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, nonEmpty } from './private/statements';

/**
 * Properties of `AwsLoadBalancerControllerTargetGroupBindingPermissions`.
 */
export interface AwsLoadBalancerControllerTargetGroupBindingPermissionsProps {
  /**
   * The existing target groups that `TargetGroupBinding` resources name: the controller registers
   * the pods (or nodes) in them.
   */
  readonly targetGroups: elbv2.ITargetGroup[];
}

/**
 * The permissions of the AWS Load Balancer Controller used for `TargetGroupBinding` only: it
 * registers and deregisters targets in target groups created elsewhere, and manages no load
 * balancer and no security group rule.
 *
 * Follows the policy of kubernetes-sigs/aws-load-balancer-controller `docs/deploy/installation.md`
 * ("You only want the LBC to add and remove IPs to already existing target groups") at v3.5.0:
 * the Describe actions on `*` (they take no resource), and `ModifyTargetGroup`,
 * `ModifyTargetGroupAttributes`, `RegisterTargets` and `DeregisterTargets` on the target groups
 * you name, where upstream grants every one. Namespace `kube-system` and service account
 * `aws-load-balancer-controller`: the chart `helm/aws-load-balancer-controller` at v3.5.0.
 */
export class AwsLoadBalancerControllerTargetGroupBindingPermissions extends ControllerPermissions {
  private readonly props: AwsLoadBalancerControllerTargetGroupBindingPermissionsProps;

  public constructor(props: AwsLoadBalancerControllerTargetGroupBindingPermissionsProps) {
    super({
      controllerName: 'AWS Load Balancer Controller (TargetGroupBinding only)',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'aws-load-balancer-controller',
      upstream: { source: 'kubernetes-sigs/aws-load-balancer-controller docs/deploy/installation.md', version: 'v3.5.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { targetGroups } = this.props;
    nonEmpty(where, 'AwsLoadBalancerControllerTargetGroupBindingPermissions', 'targetGroups', targetGroups, 'target groups that TargetGroupBinding resources name');
    return [
      {
        actions: [
          'ec2:DescribeVpcs',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeInstances',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource.',
      },
      {
        actions: [
          'elasticloadbalancing:ModifyTargetGroup',
          'elasticloadbalancing:ModifyTargetGroupAttributes',
          'elasticloadbalancing:RegisterTargets',
          'elasticloadbalancing:DeregisterTargets',
        ],
        resources: targetGroups.map(group => group.targetGroupArn),
      },
    ];
  }
}
