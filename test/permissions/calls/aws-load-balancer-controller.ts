import { AwsLoadBalancerControllerPermissions } from '../../../src';
import { arnOf, Call, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * AWS Load Balancer Controller v3.5.0: an Ingress reconciled end to end (pkg/deploy/ec2 and
 * pkg/deploy/elbv2): the security group of the load balancer created with its tags, the nodes'
 * security group opened to it, the load balancer, target group and listener created with the
 * stack tags (elbv2.k8s.aws/cluster: <cluster>), targets registered, tags reconciled, a WAF ACL
 * associated; then deleted. pkg/deploy/tracking/provider.go: the cluster tag's value is the
 * cluster name. The evaluator's data (iam-data) gives elasticloadbalancing:AddTags and RemoveTags
 * the resource types of Elastic Load Balancing v1 only (a classic load balancer's ARN pattern,
 * which v2 load balancers' ARNs also match), so tagging target groups and listeners is not
 * replayed: the synth test pins those statements.
 */
const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

export const awsLoadBalancerController: Scenario = {
  name: 'AwsLoadBalancerControllerPermissions',
  build: ({ cluster, account }): ScenarioBuild => {
    const ec2 = (resource: string) => arnOf('ec2', REGION, account, resource);
    const elb = (resource: string) => arnOf('elasticloadbalancing', REGION, account, resource);
    const lb = elb('loadbalancer/app/k8s-web-0a1b2c3d4e/50dc6c495c0c9188');
    const tg = elb('targetgroup/k8s-web-web-0a1b2c3d4e/73e2d6bc24d8a067');
    const listener = elb('listener/app/k8s-web-0a1b2c3d4e/50dc6c495c0c9188/f2f7dc8efc522ab2');
    const lbSecurityGroup = ec2('security-group/sg-0lb0000000000001');
    const nodeSecurityGroup = ec2('security-group/sg-0node00000000001');
    const stackTags = (clusterName: string) => ({
      [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName,
      'aws:RequestTag/ingress.k8s.aws/stack': 'web',
      'aws:TagKeys': [CLUSTER_TAG, 'ingress.k8s.aws/stack'],
    });
    const taggedFor = (clusterName: string) => ({ [`aws:ResourceTag/${CLUSTER_TAG}`]: clusterName });
    const ours = taggedFor('prod');
    const theirs = taggedFor('staging');
    const calls = {
      allowed: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`, context: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
        { action: 'ec2:DescribeSubnets', resource: '*' },
        { action: 'ec2:DescribeSecurityGroups', resource: '*' },
        { action: 'elasticloadbalancing:DescribeLoadBalancers', resource: '*' },
        { action: 'acm:DescribeCertificate', resource: arnOf('acm', REGION, account, 'certificate/0a1b2c3d-1111-2222-3333-444455556666') },
        { action: 'ec2:CreateSecurityGroup', resource: ec2('vpc/vpc-0a1b2c3d4e5f00001') },
        { action: 'ec2:CreateSecurityGroup', resource: lbSecurityGroup, context: stackTags('prod') },
        { action: 'ec2:CreateTags', resource: lbSecurityGroup, context: { 'ec2:CreateAction': 'CreateSecurityGroup', ...stackTags('prod') } },
        { action: 'ec2:AuthorizeSecurityGroupIngress', resource: lbSecurityGroup, context: ours },
        // The nodes' security group, which the controller does not own.
        { action: 'ec2:AuthorizeSecurityGroupIngress', resource: nodeSecurityGroup },
        { action: 'elasticloadbalancing:CreateLoadBalancer', resource: lb, context: stackTags('prod') },
        { action: 'elasticloadbalancing:AddTags', resource: lb, context: { 'elasticloadbalancing:CreateAction': 'CreateLoadBalancer', ...stackTags('prod') } },
        { action: 'elasticloadbalancing:CreateTargetGroup', resource: tg, context: stackTags('prod') },
        { action: 'elasticloadbalancing:CreateListener', resource: lb },
        { action: 'elasticloadbalancing:ModifyLoadBalancerAttributes', resource: lb, context: ours },
        { action: 'elasticloadbalancing:ModifyTargetGroupAttributes', resource: tg, context: ours },
        { action: 'elasticloadbalancing:RegisterTargets', resource: tg },
        { action: 'elasticloadbalancing:AddTags', resource: lb, context: { ...ours, 'aws:RequestTag/owner': 'team-web', 'aws:TagKeys': ['owner'] } },
        { action: 'wafv2:AssociateWebACL', resource: arnOf('wafv2', REGION, account, 'regional/webacl/web/0a1b2c3d-1111-2222-3333-444455556666') },
        { action: 'elasticloadbalancing:DeleteListener', resource: listener },
        { action: 'elasticloadbalancing:DeleteLoadBalancer', resource: lb, context: ours },
        { action: 'elasticloadbalancing:DeleteTargetGroup', resource: tg, context: ours },
        { action: 'ec2:DeleteSecurityGroup', resource: lbSecurityGroup, context: ours },
      ] as Call[],
      denied: [
        // Another cluster's load balancers, target groups and security groups.
        { action: 'elasticloadbalancing:DeleteLoadBalancer', resource: lb, context: theirs },
        { action: 'elasticloadbalancing:ModifyTargetGroup', resource: tg, context: theirs },
        { action: 'ec2:DeleteSecurityGroup', resource: lbSecurityGroup, context: theirs },
        // Resources created for another cluster.
        { action: 'elasticloadbalancing:CreateLoadBalancer', resource: lb, context: stackTags('staging') },
        { action: 'ec2:CreateTags', resource: lbSecurityGroup, context: { 'ec2:CreateAction': 'CreateSecurityGroup', ...stackTags('staging') } },
        // Re-tagging a load balancer, or an untagged one, for this cluster.
        { action: 'elasticloadbalancing:AddTags', resource: lb, context: { ...theirs, [`aws:RequestTag/${CLUSTER_TAG}`]: 'prod', 'aws:TagKeys': [CLUSTER_TAG] } },
        { action: 'elasticloadbalancing:AddTags', resource: lb, context: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'prod', 'aws:TagKeys': [CLUSTER_TAG] } },
        // A load balancer not created by the controller.
        { action: 'elasticloadbalancing:DeleteLoadBalancer', resource: lb },
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
      ] as Call[],
    };
    return { permissions: new AwsLoadBalancerControllerPermissions({ cluster }), ...calls };
  },
};
