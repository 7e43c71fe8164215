import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, ErrorScope, arn, clusterFacts } from './private/statements';

/**
 * Properties of `AwsLoadBalancerControllerPermissions`.
 */
export interface AwsLoadBalancerControllerPermissionsProps {
  /**
   * The cluster the controller runs in. The controller tags what it creates with
   * `elbv2.k8s.aws/cluster: <cluster name>` (its `clusterName`, which the chart requires): the
   * statements that change or delete load balancers, target groups and security groups require
   * that tag with this cluster's name.
   */
  readonly cluster: IClusterRef;
}

/** The tag the controller puts on every resource it creates, with the cluster's name (`pkg/deploy/tracking/provider.go`). */
const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

/**
 * The permissions of the AWS Load Balancer Controller.
 *
 * Follows kubernetes-sigs/aws-load-balancer-controller `docs/install/iam_policy.json` at v3.5.0,
 * statement by statement, with upstream's tag conditions kept: where upstream requires the
 * `elbv2.k8s.aws/cluster` tag to be present (`Null: false`), this set requires it to name your
 * cluster (`StringEquals`), so that one cluster's controller cannot change another's load
 * balancers; where upstream requires it to be absent from a request (`Null: true`), so does this set.
 * `iam:CreateServiceLinkedRole` names the role of Elastic Load Balancing instead of `*`.
 *
 * Upstream's `*` stays where the controller needs it: the Describe and Get actions take no
 * resource; the certificate, WAF and Shield actions act on what Ingress annotations name;
 * `ec2:AuthorizeSecurityGroupIngress` and `ec2:RevokeSecurityGroupIngress` add the load balancer's
 * rules to the nodes' security groups, which the controller does not create; listeners and rules
 * are created under load balancers that do not exist beforehand. Namespace `kube-system` and service
 * account `aws-load-balancer-controller`: the chart `helm/aws-load-balancer-controller` at v3.5.0,
 * release `aws-load-balancer-controller`, as `docs/deploy/installation.md` installs it.
 */
export class AwsLoadBalancerControllerPermissions extends ControllerPermissions {
  private readonly props: AwsLoadBalancerControllerPermissionsProps;

  public constructor(props: AwsLoadBalancerControllerPermissionsProps) {
    super({
      controllerName: 'AWS Load Balancer Controller',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'aws-load-balancer-controller',
      upstream: { source: 'kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json', version: 'v3.5.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const cluster = clusterFacts(where, 'AwsLoadBalancerControllerPermissions', this.props.cluster, false);
    const requestTagged = { [`aws:RequestTag/${CLUSTER_TAG}`]: cluster.name };
    const resourceTagged = { [`aws:ResourceTag/${CLUSTER_TAG}`]: cluster.name };
    const securityGroups = arn('ec2', '*', '*', 'security-group/*');
    const targetGroupsAndLoadBalancers = [
      arn('elasticloadbalancing', '*', '*', 'targetgroup/*/*'),
      arn('elasticloadbalancing', '*', '*', 'loadbalancer/net/*/*'),
      arn('elasticloadbalancing', '*', '*', 'loadbalancer/app/*/*'),
    ];
    const describe = 'Describe and Get actions take no resource.';
    const createdHere = `Resources the controller creates, which exist only once created: scoped by the ${CLUSTER_TAG} tag of this cluster.`;
    return [
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [arn('iam', '', CREDENTIALS_ACCOUNT, 'role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing')],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
      },
      {
        actions: [
          'ec2:DescribeAccountAttributes',
          'ec2:DescribeAddresses',
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeInternetGateways',
          'ec2:DescribeVpcs',
          'ec2:DescribeVpcPeeringConnections',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeInstances',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeTags',
          'ec2:GetCoipPoolUsage',
          'ec2:DescribeCoipPools',
          'ec2:GetSecurityGroupsForVpc',
          'ec2:DescribeIpamPools',
          'ec2:DescribeRouteTables',
          'elasticloadbalancing:DescribeLoadBalancers',
          'elasticloadbalancing:DescribeLoadBalancerAttributes',
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeListenerCertificates',
          'elasticloadbalancing:DescribeSSLPolicies',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetGroupAttributes',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeTags',
          'elasticloadbalancing:DescribeTrustStores',
          'elasticloadbalancing:DescribeListenerAttributes',
          'elasticloadbalancing:DescribeCapacityReservation',
        ],
        resources: ['*'],
        wildcardReason: describe,
      },
      {
        actions: [
          'cognito-idp:DescribeUserPoolClient',
          'acm:ListCertificates',
          'acm:DescribeCertificate',
          'iam:ListServerCertificates',
          'iam:GetServerCertificate',
          'waf-regional:GetWebACL',
          'waf-regional:GetWebACLForResource',
          'waf-regional:AssociateWebACL',
          'waf-regional:DisassociateWebACL',
          'wafv2:GetWebACL',
          'wafv2:GetWebACLForResource',
          'wafv2:AssociateWebACL',
          'wafv2:DisassociateWebACL',
          'shield:GetSubscriptionState',
          'shield:DescribeProtection',
          'shield:CreateProtection',
          'shield:DeleteProtection',
        ],
        resources: ['*'],
        wildcardReason: 'The certificates, user pools, web ACLs and Shield protections that Ingress and Service annotations name, which the controller discovers at run time.',
      },
      {
        actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
        resources: ['*'],
        wildcardReason: 'The controller adds and removes the load balancer\'s rules in the security groups of the nodes and pods, which it does not create.',
      },
      {
        actions: ['ec2:CreateSecurityGroup'],
        resources: ['*'],
        wildcardReason: 'The security group of a load balancer does not exist before the controller creates it, in the cluster\'s VPC.',
      },
      {
        actions: ['ec2:CreateTags'],
        resources: [securityGroups],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup', ...requestTagged } },
        wildcardReason: createdHere,
      },
      {
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [securityGroups],
        conditions: { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'true' }, StringEquals: resourceTagged },
        wildcardReason: createdHere,
      },
      {
        actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
        resources: ['*'],
        conditions: { StringEquals: resourceTagged },
        wildcardReason: createdHere,
      },
      {
        actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
        resources: ['*'],
        conditions: { StringEquals: requestTagged },
        wildcardReason: createdHere,
      },
      {
        actions: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule'],
        resources: ['*'],
        wildcardReason: 'Listeners and rules belong to load balancers the controller creates; upstream grants them without a condition.',
      },
      {
        actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
        resources: targetGroupsAndLoadBalancers,
        conditions: { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'true' }, StringEquals: resourceTagged },
        wildcardReason: createdHere,
      },
      {
        actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
        resources: [
          arn('elasticloadbalancing', '*', '*', 'listener/net/*/*/*'),
          arn('elasticloadbalancing', '*', '*', 'listener/app/*/*/*'),
          arn('elasticloadbalancing', '*', '*', 'listener-rule/net/*/*/*'),
          arn('elasticloadbalancing', '*', '*', 'listener-rule/app/*/*/*'),
        ],
        wildcardReason: 'Listeners and rules belong to load balancers the controller creates; upstream grants them without a condition.',
      },
      {
        actions: [
          'elasticloadbalancing:ModifyLoadBalancerAttributes',
          'elasticloadbalancing:SetIpAddressType',
          'elasticloadbalancing:SetSecurityGroups',
          'elasticloadbalancing:SetSubnets',
          'elasticloadbalancing:DeleteLoadBalancer',
          'elasticloadbalancing:ModifyTargetGroup',
          'elasticloadbalancing:ModifyTargetGroupAttributes',
          'elasticloadbalancing:DeleteTargetGroup',
          'elasticloadbalancing:ModifyListenerAttributes',
          'elasticloadbalancing:ModifyCapacityReservation',
          'elasticloadbalancing:ModifyIpPools',
        ],
        resources: ['*'],
        conditions: { StringEquals: resourceTagged },
        wildcardReason: createdHere,
      },
      {
        actions: ['elasticloadbalancing:AddTags'],
        resources: targetGroupsAndLoadBalancers,
        conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'], ...requestTagged } },
        wildcardReason: createdHere,
      },
      {
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: [arn('elasticloadbalancing', '*', '*', 'targetgroup/*/*')],
        wildcardReason: 'Target groups the controller creates, and those that TargetGroupBinding resources name.',
      },
      {
        actions: [
          'elasticloadbalancing:SetWebAcl',
          'elasticloadbalancing:ModifyListener',
          'elasticloadbalancing:AddListenerCertificates',
          'elasticloadbalancing:RemoveListenerCertificates',
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:SetRulePriorities',
        ],
        resources: ['*'],
        wildcardReason: 'Listeners and rules belong to load balancers the controller creates; upstream grants them without a condition.',
      },
    ];
  }
}
