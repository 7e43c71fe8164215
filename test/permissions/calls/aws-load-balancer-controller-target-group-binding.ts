import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AwsLoadBalancerControllerTargetGroupBindingPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * AWS Load Balancer Controller v3.5.0, TargetGroupBinding reconciler (pkg/targetgroupbinding):
 * it describes the target group and its targets, registers and deregisters the pods' IPs.
 */
export const awsLoadBalancerControllerTargetGroupBinding: Scenario = {
  name: 'AwsLoadBalancerControllerTargetGroupBindingPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const group = arnOf('elasticloadbalancing', REGION, account, 'targetgroup/web/73e2d6bc24d8a067');
    const other = arnOf('elasticloadbalancing', REGION, account, 'targetgroup/payments/1111d6bc24d8a067');
    return {
      permissions: new AwsLoadBalancerControllerTargetGroupBindingPermissions({
        targetGroups: [elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(landing, 'Web', { targetGroupArn: group })],
      }),
      allowed: [
        { action: 'elasticloadbalancing:DescribeTargetGroups', resource: '*' },
        { action: 'elasticloadbalancing:DescribeTargetHealth', resource: '*' },
        { action: 'ec2:DescribeInstances', resource: '*' },
        { action: 'elasticloadbalancing:RegisterTargets', resource: group },
        { action: 'elasticloadbalancing:DeregisterTargets', resource: group },
        { action: 'elasticloadbalancing:ModifyTargetGroupAttributes', resource: group },
      ],
      denied: [
        { action: 'elasticloadbalancing:RegisterTargets', resource: other },
        { action: 'elasticloadbalancing:DeleteTargetGroup', resource: group },
        { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arnOf('ec2', REGION, account, 'security-group/sg-0node00000000001') },
      ],
    };
  },
};
